import { type FormEvent, useId, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import type { LotRowFragment } from "../gql/graphql";
import { describeRequestError, outcomeOf } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import {
  LoadState,
  Notice,
  type NoticeValue,
  PageTitle,
  StatusBadge,
  newIdempotencyKey,
} from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { knownClients, lotProgress } from "./clients";
import { LotScanner } from "./LotScanner";
import {
  CloseLotMutation,
  CreateLotMutation,
  KnownClientsQuery,
  LotsQuery,
  ReconcileLotMutation,
} from "./operations";

const TOPICS: readonly LiveTopic[] = [{ entityType: "Lot" }, { types: ["device.received"] }];

/** Inbound lots: open one, scan its devices in against the expected count, reconcile, close. */
export function ReceivingPage() {
  const [result, reexecute] = useQuery({
    query: LotsQuery,
    variables: { first: 50, filter: null },
    requestPolicy: "cache-and-network",
  });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const mode = useLiveEvents(TOPICS, refresh);
  const lots = useMemo(
    () => result.data?.lots.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
  const highlighted = useHighlights(
    lots,
    (lot) => lot.id,
    (lot) => `${lot.status}/${lot.receivedCount}`,
  );
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [notice, setNotice] = useState<NoticeValue>(null);
  const selected = lots?.find((lot) => lot.id === selectedId) ?? null;

  return (
    <div className="page">
      <PageTitle mode={mode}>Receiving</PageTitle>
      <div className="page__grid">
        <section className="card page__list" aria-labelledby="lots-title">
          <h2 id="lots-title">Lots</h2>
          <LoadState
            fetching={result.fetching}
            hasData={Boolean(result.data)}
            error={result.error ? describeRequestError(result.error) : null}
            empty={(lots?.length ?? 0) === 0}
            emptyText="No lot yet: open one for a client's inbound batch."
          />
          <Notice notice={notice} />
          {lots && lots.length > 0 ? (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Lot</th>
                  <th scope="col">Client</th>
                  <th scope="col">Status</th>
                  <th scope="col">Count</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {lots.map((lot) => (
                  <tr
                    key={lot.id}
                    data-lot-id={lot.id}
                    className={[
                      "row",
                      highlighted.has(lot.id) ? "row--changed" : "",
                      lot.id === selectedId ? "row--selected" : "",
                    ].join(" ")}
                  >
                    <td data-label="Lot" className="mono">
                      {lot.reference}
                    </td>
                    <td data-label="Client">{lot.client?.name ?? "—"}</td>
                    <td data-label="Status">
                      <StatusBadge status={lot.status} />
                    </td>
                    <td data-label="Count" data-testid="lot-progress">
                      {lotProgress(lot)}
                    </td>
                    <td data-label="">
                      <LotActions
                        lot={lot}
                        selected={lot.id === selectedId}
                        onSelect={() => setSelectedId(lot.id)}
                        onOutcome={(value) => {
                          setNotice(value);
                          refresh();
                        }}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
        <div className="stack page__form">
          {selected ? (
            <LotScanner
              key={selected.id}
              lot={selected}
              onClose={() => setSelectedId(null)}
              onReceived={refresh}
            />
          ) : null}
          <CreateLotForm
            onCreated={(lot) => {
              setSelectedId(lot.id);
              refresh();
            }}
          />
        </div>
      </div>
    </div>
  );
}

function LotActions({
  lot,
  selected,
  onSelect,
  onOutcome,
}: {
  lot: LotRowFragment;
  selected: boolean;
  onSelect: () => void;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [{ fetching: reconciling }, reconcile] = useMutation(ReconcileLotMutation);
  const [{ fetching: closing }, close] = useMutation(CloseLotMutation);
  const input = {
    lotId: lot.id,
    expectedVersion: lot.version,
    idempotencyKey: newIdempotencyKey(),
  };
  return (
    <div className="actions__row">
      {lot.status === "OPEN" || lot.status === "RECEIVING" ? (
        <button
          type="button"
          className="button button--small"
          aria-pressed={selected}
          aria-label={`Receive into ${lot.reference}`}
          onClick={onSelect}
        >
          Receive
        </button>
      ) : null}
      {lot.status === "RECEIVING" ? (
        <button
          type="button"
          className="button button--small button--secondary"
          disabled={reconciling}
          aria-label={`Reconcile ${lot.reference}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await reconcile({ input }),
              (data) => data.reconcileLot,
              "ReconcileLotPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? {
                    kind: "ok",
                    text: `${lot.reference} reconciled: ${lotProgress(outcome.value.lot)}.`,
                  }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Reconcile
        </button>
      ) : null}
      {lot.status === "RECONCILED" ? (
        <button
          type="button"
          className="button button--small button--secondary"
          disabled={closing}
          aria-label={`Close ${lot.reference}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await close({ input }),
              (data) => data.closeLot,
              "CloseLotPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `${lot.reference} closed.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Close
        </button>
      ) : null}
    </div>
  );
}

function CreateLotForm({ onCreated }: { onCreated: (lot: LotRowFragment) => void }) {
  const id = useId();
  const [clientId, setClientId] = useState("");
  const [reference, setReference] = useState("");
  const [expected, setExpected] = useState("");
  const [notice, setNotice] = useState<NoticeValue>(null);
  const [field, setField] = useState<string | null>(null);
  const [{ data: known }] = useQuery({ query: KnownClientsQuery });
  const clients = useMemo(
    () =>
      knownClients([
        ...(known?.lots.edges.map((edge) => edge.node) ?? []),
        ...(known?.devices.edges.map((edge) => edge.node) ?? []),
      ]),
    [known],
  );
  const [{ fetching }, createLot] = useMutation(CreateLotMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const count = Number(expected);
    if (!Number.isInteger(count) || count < 1) {
      setField("expectedCount");
      setNotice({ kind: "error", text: "The expected count is a whole number, at least 1." });
      return;
    }
    const outcome = outcomeOf(
      await createLot({
        input: {
          clientId: clientId.trim(),
          reference: reference.trim(),
          expectedCount: count,
          idempotencyKey: newIdempotencyKey(),
        },
      }),
      (data) => data.createLot,
      "CreateLotPayload",
    );
    if (outcome.kind === "done") {
      setNotice({
        kind: "ok",
        text: `Lot ${outcome.value.lot.reference} is open: scan its devices.`,
      });
      setField(null);
      setReference("");
      setExpected("");
      onCreated(outcome.value.lot);
    } else {
      setField(outcome.refusal?.field ?? null);
      setNotice({ kind: "error", text: outcome.text });
    }
  }

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Open a lot</h2>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-client`}>Client id</label>
          <input
            id={`${id}-client`}
            list={`${id}-clients`}
            required
            autoComplete="off"
            value={clientId}
            aria-invalid={field === "clientId" || undefined}
            aria-describedby={`${id}-client-hint`}
            onChange={(event) => setClientId(event.target.value)}
          />
          <datalist id={`${id}-clients`}>
            {clients.map((client) => (
              <option key={client.id} value={client.id} label={client.name} />
            ))}
          </datalist>
          <p id={`${id}-client-hint`} className="hint">
            {clients.length > 0
              ? `Pick from ${clients.map((client) => client.name).join(", ")}, or type an id.`
              : "The client's id."}
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-reference`}>Reference</label>
          <input
            id={`${id}-reference`}
            required
            value={reference}
            placeholder="e.g. the client's ASN"
            aria-invalid={field === "reference" || undefined}
            onChange={(event) => setReference(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-expected`}>Expected devices</label>
          <input
            id={`${id}-expected`}
            required
            inputMode="numeric"
            value={expected}
            aria-invalid={field === "expectedCount" || undefined}
            onChange={(event) => setExpected(event.target.value)}
          />
        </div>
        <button type="submit" className="button" disabled={fetching}>
          Open lot
        </button>
        <Notice notice={notice} />
      </form>
    </section>
  );
}
