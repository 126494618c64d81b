import { type FormEvent, useId, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import type { SettlementDetailFragment, SettlementStatus } from "../gql/graphql";
import { isoDay } from "../shared/dates";
import { describeRequestError, outcomeOf } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { formatMoney } from "../shared/money";
import { LoadState, Notice, type NoticeValue, PageTitle, newIdempotencyKey } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { knownClients } from "../warehouse/clients";
import {
  ApproveSettlementMutation,
  GenerateSettlementMutation,
  PaySettlementMutation,
  SettleableClientsQuery,
  SettlementsQuery,
  VoidSettlementMutation,
} from "./operations";
import {
  SettlementHeading,
  SettlementLines,
  SettlementTotals,
  periodLabel,
} from "./SettlementView";

const TOPICS: readonly LiveTopic[] = [
  { entityType: "Settlement" },
  { types: ["device.delivered"] },
];

const TABS: readonly { key: string; label: string; status: SettlementStatus[] | null }[] = [
  { key: "open", label: "To review", status: ["DRAFT", "APPROVED"] },
  { key: "paid", label: "Paid", status: ["PAID"] },
  { key: "all", label: "All", status: null },
];

/** Finance: generate a client's settlement for a period, review its lines, approve, pay. */
export function SettlementsPage() {
  const [tabKey, setTabKey] = useState("open");
  const tab = TABS.find((item) => item.key === tabKey) ?? TABS[0]!;
  const variables = useMemo(() => ({ filter: tab.status ? { status: tab.status } : null }), [tab]);
  const [result, reexecute] = useQuery({
    query: SettlementsQuery,
    variables,
    requestPolicy: "cache-and-network",
  });
  const [clientsResult, reexecuteClients] = useQuery({
    query: SettleableClientsQuery,
    requestPolicy: "cache-and-network",
  });
  const refresh = () => {
    reexecute({ requestPolicy: "network-only" });
    reexecuteClients({ requestPolicy: "network-only" });
  };
  const mode = useLiveEvents(TOPICS, refresh);
  const settlements = useMemo(
    () => result.data?.settlements.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
  const highlighted = useHighlights(
    settlements,
    (settlement) => settlement.id,
    (settlement) => String(settlement.version),
    tabKey,
  );
  const clients = useMemo(
    () =>
      knownClients([
        ...(clientsResult.data?.devices.edges.map((edge) => edge.node) ?? []),
        ...(settlements ?? []),
      ]),
    [clientsResult.data, settlements],
  );
  const [notice, setNotice] = useState<NoticeValue>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const report = (value: NoticeValue) => {
    setNotice(value);
    refresh();
  };

  return (
    <div className="page">
      <PageTitle mode={mode}>Settlements</PageTitle>
      <div className="page__grid">
        <section className="card page__list" aria-labelledby="settlements-title">
          <div className="toolbar">
            <h2 id="settlements-title">Settlements</h2>
            <div className="segmented" role="group" aria-label="Show">
              {TABS.map((item) => (
                <button
                  key={item.key}
                  type="button"
                  className="segmented__item"
                  aria-pressed={tabKey === item.key}
                  onClick={() => setTabKey(item.key)}
                >
                  {item.label}
                </button>
              ))}
            </div>
          </div>
          <Notice notice={notice} />
          <LoadState
            fetching={result.fetching}
            hasData={Boolean(result.data)}
            error={result.error ? describeRequestError(result.error) : null}
            empty={(settlements?.length ?? 0) === 0}
            emptyText="No settlement here. Generate one for a client and a period."
          />
          <ul className="cards">
            {settlements?.map((settlement) => (
              <li
                key={settlement.id}
                className={
                  highlighted.has(settlement.id)
                    ? "item item--changed item--column"
                    : "item item--column"
                }
                data-settlement-id={settlement.id}
              >
                <div className="item__main">
                  <p className="item__title">{settlement.client?.name ?? "A client"}</p>
                  <p>
                    <SettlementHeading settlement={settlement} />
                  </p>
                </div>
                <div className="actions__row">
                  <button
                    type="button"
                    className="button button--small button--secondary"
                    aria-expanded={openId === settlement.id}
                    aria-controls={`settlement-${settlement.id}`}
                    onClick={() => setOpenId(openId === settlement.id ? null : settlement.id)}
                  >
                    {openId === settlement.id ? "Hide lines" : "Review"}
                  </button>
                  <SettlementActions settlement={settlement} onOutcome={report} />
                </div>
                {openId === settlement.id ? (
                  <div id={`settlement-${settlement.id}`} className="review">
                    <SettlementTotals settlement={settlement} />
                    <SettlementLines settlement={settlement} />
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
        <GenerateForm
          clients={clients}
          onGenerated={(settlement) => {
            setTabKey("open");
            setOpenId(settlement.id);
            report({
              kind: "ok",
              text: `Draft settlement for ${settlement.client?.name ?? "the client"}, ${periodLabel(
                settlement,
              )}: ${settlement.lineCount} ${settlement.lineCount === 1 ? "device" : "devices"}, net ${formatMoney(settlement.totals.net)}.`,
            });
          }}
        />
      </div>
    </div>
  );
}

function SettlementActions({
  settlement,
  onOutcome,
}: {
  settlement: SettlementDetailFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [{ fetching: approving }, approve] = useMutation(ApproveSettlementMutation);
  const [{ fetching: paying }, pay] = useMutation(PaySettlementMutation);
  const [{ fetching: voiding }, voidIt] = useMutation(VoidSettlementMutation);
  const busy = approving || paying || voiding;
  const who = settlement.client?.name ?? "the client";
  const input = {
    id: settlement.id,
    expectedVersion: settlement.version,
    idempotencyKey: newIdempotencyKey(),
  };
  return (
    <>
      {settlement.status === "DRAFT" ? (
        <button
          type="button"
          className="button button--small"
          disabled={busy}
          aria-label={`Approve the settlement of ${who}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await approve({ input }),
              (data) => data.approveSettlement,
              "ApproveSettlementPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `Approved the settlement of ${who}.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Approve
        </button>
      ) : null}
      {settlement.status === "APPROVED" ? (
        <button
          type="button"
          className="button button--small"
          disabled={busy}
          aria-label={`Mark paid: the settlement of ${who}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await pay({ input }),
              (data) => data.paySettlement,
              "PaySettlementPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `Paid ${formatMoney(settlement.totals.net)} to ${who}.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Mark paid
        </button>
      ) : null}
      {settlement.status === "DRAFT" || settlement.status === "APPROVED" ? (
        <button
          type="button"
          className="button button--small button--danger"
          disabled={busy}
          aria-label={`Void the settlement of ${who}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await voidIt({ input }),
              (data) => data.voidSettlement,
              "VoidSettlementPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `Voided: its devices may be settled again.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Void
        </button>
      ) : null}
    </>
  );
}

function defaultPeriod(now: Date = new Date()): { start: string; end: string } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return { start: isoDay(start), end: isoDay(now) };
}

function GenerateForm({
  clients,
  onGenerated,
}: {
  clients: readonly { id: string; name: string }[];
  onGenerated: (settlement: SettlementDetailFragment) => void;
}) {
  const id = useId();
  const period = useMemo(() => defaultPeriod(), []);
  const [clientId, setClientId] = useState("");
  const [start, setStart] = useState(period.start);
  const [end, setEnd] = useState(period.end);
  const [problem, setProblem] = useState<{ field: string | null; text: string } | null>(null);
  const [{ fetching }, generate] = useMutation(GenerateSettlementMutation);
  const chosen = clientId || clients[0]?.id || "";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!chosen) {
      setProblem({ field: "clientId", text: "Choose the client to settle." });
      return;
    }
    if (!start || !end || start > end) {
      setProblem({ field: "periodEnd", text: "The period ends on or after the day it starts." });
      return;
    }
    setProblem(null);
    const outcome = outcomeOf(
      await generate({
        input: {
          clientId: chosen,
          periodStart: start,
          periodEnd: end,
          idempotencyKey: newIdempotencyKey(),
        },
      }),
      (data) => data.generateSettlement,
      "GenerateSettlementPayload",
    );
    if (outcome.kind === "done") {
      onGenerated(outcome.value.settlement);
    } else {
      setProblem({ field: outcome.refusal?.field ?? null, text: outcome.text });
    }
  }

  return (
    <section className="card page__form" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Generate a settlement</h2>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-client`}>Client</label>
          <select
            id={`${id}-client`}
            value={chosen}
            aria-invalid={problem?.field === "clientId" || undefined}
            onChange={(event) => setClientId(event.target.value)}
          >
            {clients.length === 0 ? (
              <option value="">No client has delivered devices</option>
            ) : null}
            {clients.map((client) => (
              <option key={client.id} value={client.id}>
                {client.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-start`}>From</label>
            <input
              id={`${id}-start`}
              type="date"
              value={start}
              aria-invalid={problem?.field === "periodStart" || undefined}
              onChange={(event) => setStart(event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-end`}>To (inclusive)</label>
            <input
              id={`${id}-end`}
              type="date"
              value={end}
              aria-invalid={problem?.field === "periodEnd" || undefined}
              onChange={(event) => setEnd(event.target.value)}
            />
          </div>
        </div>
        <p className="hint">Devices delivered in these whole days (UTC) and not settled yet.</p>
        <button type="submit" className="button" disabled={fetching}>
          {fetching ? "Generating…" : "Generate draft"}
        </button>
        {problem ? (
          <p className="notice notice--error" role="alert">
            {problem.text}
          </p>
        ) : null}
      </form>
    </section>
  );
}
