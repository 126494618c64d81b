// Follow DeviceGraph's event log over a websocket and append each event to a JSON-lines file.
//
//   npm ci && DEVICEGRAPH_API_KEY=dgk_... node follow-events.mjs
//
// The cursor of the last event handled is kept in a file, so a restart resumes right after it.
// Without a cursor file it starts with the events committed from now on.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.DEVICEGRAPH_WS_URL ?? 'ws://localhost:8000/graphql';
const apiKey = process.env.DEVICEGRAPH_API_KEY; // a key with the subscribe scope
const eventsFile = process.env.EVENTS_FILE ?? 'events.jsonl';
const cursorFile = process.env.CURSOR_FILE ?? 'events.cursor';

const FOLLOW = `subscription Follow($after: String) {
  events(after: $after) { cursor type entityType entityId entityVersion occurredAt changes }
}`;

const read = (file) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : '');

// Write the cursor atomically: a crash leaves the old file or the new one, never half.
function saveCursor(cursor) {
  writeFileSync(`${cursorFile}.tmp`, cursor);
  renameSync(`${cursorFile}.tmp`, cursorFile);
}

// retryAttempts 0: on a dropped connection we subscribe again ourselves, from the saved cursor.
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${apiKey}` },
  retryAttempts: 0,
});

for (;;) {
  // Delivery is at least once: an event written just before a crash, whose cursor was not
  // saved yet, comes again first. It is the last line of the file: skip it.
  const written = read(eventsFile).split('\n').filter(Boolean).map(JSON.parse).at(-1)?.cursor;
  try {
    const after = read(cursorFile) || null;
    for await (const result of client.iterate({ query: FOLLOW, variables: { after } })) {
      if (result.errors) throw new Error(JSON.stringify(result.errors)); // e.g. LAGGED
      const event = result.data.events;
      if (event.cursor !== written) appendFileSync(eventsFile, `${JSON.stringify(event)}\n`);
      saveCursor(event.cursor); // remember it was handled
    }
  } catch (error) {
    console.error('stream ended, resuming in 1 s:', error?.message ?? error);
  }
  await sleep(1000);
}
