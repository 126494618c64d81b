import { describe, expect, it } from "vitest";

import { SESSION_KEY, authHeaders, clearSession, loadSession, saveSession } from "./session";

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

const NOW = Date.parse("2026-11-28T12:00:00Z");
const SESSION = { token: "dgs_abc", expiresAt: "2026-11-28T20:00:00Z" };

describe("sessions in storage", () => {
  it("round-trips a session that has not expired", () => {
    const storage = memoryStorage();
    saveSession(SESSION, storage);
    expect(loadSession(storage, NOW)).toEqual(SESSION);
  });

  it("drops an expired session", () => {
    const storage = memoryStorage();
    saveSession(SESSION, storage);
    expect(loadSession(storage, Date.parse("2026-11-28T20:00:01Z"))).toBeNull();
    expect(storage.items.has(SESSION_KEY)).toBe(false);
  });

  it("drops what it cannot read", () => {
    for (const raw of ["not json", "{}", '{"token": 1, "expiresAt": "x"}', '{"token": ""}']) {
      const storage = memoryStorage();
      storage.setItem(SESSION_KEY, raw);
      expect(loadSession(storage, NOW)).toBeNull();
      expect(storage.items.has(SESSION_KEY)).toBe(false);
    }
  });

  it("has nothing without storage, and clears", () => {
    expect(loadSession(null, NOW)).toBeNull();
    const storage = memoryStorage();
    saveSession(SESSION, storage);
    clearSession(storage);
    expect(loadSession(storage, NOW)).toBeNull();
  });
});

describe("authHeaders", () => {
  it("sends the token as a bearer token, and nothing when signed out", () => {
    expect(authHeaders(SESSION)).toEqual({ Authorization: "Bearer dgs_abc" });
    expect(authHeaders(null)).toEqual({});
  });
});
