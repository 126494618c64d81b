import { type FormEvent, useId, useMemo, useRef, useState } from "react";
import { useMutation, useQuery } from "urql";

import type { ApiKeyRowFragment, ApiKeyScope } from "../gql/graphql";
import { formatDateTime } from "../shared/dates";
import { describeRequestError, outcomeOf } from "../shared/errors";
import { LoadState, Notice, type NoticeValue, useFocusOnMount } from "../shared/ui";
import { knownClients } from "../warehouse/clients";
import { KnownClientsQuery } from "../warehouse/operations";
import {
  SCOPES,
  draftProblem,
  keyPreview,
  knownOrganisations,
  scopesLabel,
  toggleScope,
} from "./apiKeys";
import { ApiKeysQuery, CreateApiKeyMutation, RevokeApiKeyMutation } from "./operations";

/** Admins: the organisations' API keys, a form to create one (its secret shown once), revoke. */
export function ApiKeysSection() {
  const id = useId();
  const [result, reexecute] = useQuery({
    query: ApiKeysQuery,
    requestPolicy: "cache-and-network",
  });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const [created, setCreated] = useState<{
    secret: string;
    key: ApiKeyRowFragment;
  } | null>(null);
  const [notice, setNotice] = useState<NoticeValue>(null);
  const keys = result.data?.apiKeys.edges.map((edge) => edge.node) ?? [];

  return (
    <section className="card" aria-labelledby={`${id}-keys`}>
      <h2 id={`${id}-keys`}>API keys</h2>
      <p className="muted">
        A key acts as its organisation, within its scopes: partners send{" "}
        <code>Authorization: Bearer dgk_…</code>. Webhooks are not available yet.
      </p>
      <CreateKeyForm
        keys={keys}
        onCreated={(secret, key) => {
          setNotice(null);
          setCreated({ secret, key });
          refresh();
        }}
      />
      {created ? (
        <SecretOnce
          key={created.key.id}
          secret={created.secret}
          apiKey={created.key}
          onDone={() => setCreated(null)}
        />
      ) : null}
      <h3>Keys</h3>
      <Notice notice={notice} />
      <LoadState
        fetching={result.fetching}
        hasData={result.data !== undefined}
        error={result.error ? describeRequestError(result.error) : null}
        empty={keys.length === 0}
        emptyText="No API key yet."
      />
      {keys.length > 0 ? (
        <table className="table api-keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Organisation</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Revoked</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <KeyRow
                key={key.id}
                apiKey={key}
                onOutcome={(outcome) => {
                  setNotice(outcome);
                  if (outcome?.kind === "ok") {
                    refresh();
                  }
                }}
              />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function CreateKeyForm({
  keys,
  onCreated,
}: {
  keys: readonly ApiKeyRowFragment[];
  onCreated: (secret: string, key: ApiKeyRowFragment) => void;
}) {
  const id = useId();
  const [name, setName] = useState("");
  const [organizationId, setOrganizationId] = useState("");
  const [scopes, setScopes] = useState<ApiKeyScope[]>(["READ"]);
  const [notice, setNotice] = useState<NoticeValue>(null);
  const [field, setField] = useState<string | null>(null);
  const [{ data: known }] = useQuery({ query: KnownClientsQuery });
  const organisations = useMemo(
    () =>
      knownOrganisations(
        knownClients([
          ...(known?.lots.edges.map((edge) => edge.node) ?? []),
          ...(known?.devices.edges.map((edge) => edge.node) ?? []),
        ]),
        keys.map((key) => key.organization),
      ),
    [known, keys],
  );
  const [{ fetching }, createKey] = useMutation(CreateApiKeyMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const draft = {
      name: name.trim(),
      organizationId: organizationId.trim(),
      scopes,
    };
    const problem = draftProblem(draft);
    if (problem) {
      setField(problem.field);
      setNotice({ kind: "error", text: problem.text });
      return;
    }
    const outcome = outcomeOf(
      await createKey({ input: draft }),
      (data) => data.createApiKey,
      "CreateApiKeyPayload",
    );
    if (outcome.kind === "done") {
      setNotice(null);
      setField(null);
      setName("");
      onCreated(outcome.value.secret, outcome.value.apiKey);
    } else {
      setField(outcome.refusal?.field ?? null);
      setNotice({ kind: "error", text: outcome.text });
    }
  }

  return (
    <form onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h3 id={`${id}-title`}>Create a key</h3>
      <div className="field-row">
        <div className="field">
          <label htmlFor={`${id}-name`}>Key name</label>
          <input
            id={`${id}-name`}
            value={name}
            autoComplete="off"
            placeholder="e.g. Northwind ERP"
            aria-invalid={field === "name" || undefined}
            onChange={(event) => setName(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-org`}>Organisation id</label>
          <input
            id={`${id}-org`}
            className="mono"
            list={`${id}-orgs`}
            autoComplete="off"
            value={organizationId}
            aria-invalid={field === "organizationId" || undefined}
            aria-describedby={`${id}-org-hint`}
            onChange={(event) => setOrganizationId(event.target.value)}
          />
          <datalist id={`${id}-orgs`}>
            {organisations.map((organisation) => (
              <option key={organisation.id} value={organisation.id} label={organisation.name} />
            ))}
          </datalist>
          <p id={`${id}-org-hint`} className="hint">
            {organisations.length > 0
              ? `Pick from ${organisations.map((organisation) => organisation.name).join(", ")}, or type an id.`
              : "The organisation's id."}
          </p>
        </div>
      </div>
      <fieldset aria-invalid={field === "scopes" || undefined}>
        <legend>Scopes</legend>
        {SCOPES.map(({ scope, hint }) => (
          <label key={scope} className="check">
            <input
              type="checkbox"
              checked={scopes.includes(scope)}
              onChange={(event) => setScopes(toggleScope(scopes, scope, event.target.checked))}
            />
            {scope} <span className="muted small">({hint})</span>
          </label>
        ))}
      </fieldset>
      <button type="submit" className="button button--inline" disabled={fetching}>
        Create key
      </button>
      <Notice notice={notice} />
    </form>
  );
}

function SecretOnce({
  secret,
  apiKey,
  onDone,
}: {
  secret: string;
  apiKey: ApiKeyRowFragment;
  onDone: () => void;
}) {
  const id = useId();
  const panel = useFocusOnMount<HTMLDivElement>();
  const secretRef = useRef<HTMLElement>(null);
  const [copyText, setCopyText] = useState<string | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopyText("Copied.");
    } catch {
      const range = document.createRange();
      if (secretRef.current) {
        range.selectNodeContents(secretRef.current);
        window.getSelection()?.removeAllRanges();
        window.getSelection()?.addRange(range);
      }
      setCopyText("The browser did not allow copying: the key is selected, copy it by hand.");
    }
  }

  return (
    <div
      ref={panel}
      tabIndex={-1}
      className="notice notice--warn"
      role="region"
      aria-labelledby={`${id}-title`}
      data-testid="api-key-secret"
    >
      <h3 id={`${id}-title`}>
        New key “{apiKey.name}” for {apiKey.organization?.name ?? "its organisation"}
      </h3>
      <p>
        <strong>Copy this key now: it will not be shown again.</strong> Store it where the partner's
        system keeps its secrets.
      </p>
      <p>
        <code ref={secretRef} className="mono" style={{ overflowWrap: "anywhere" }}>
          {secret}
        </code>
      </p>
      <div className="actions__row">
        <button type="button" className="button button--small" onClick={copy}>
          Copy key
        </button>
        <button type="button" className="button button--small button--secondary" onClick={onDone}>
          I have stored it
        </button>
      </div>
      {copyText ? (
        <p role="status" className="small">
          {copyText}
        </p>
      ) : null}
    </div>
  );
}

function KeyRow({
  apiKey,
  onOutcome,
}: {
  apiKey: ApiKeyRowFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [{ fetching }, revoke] = useMutation(RevokeApiKeyMutation);
  const revokeButton = useRef<HTMLButtonElement>(null);

  async function revokeNow() {
    const outcome = outcomeOf(
      await revoke({ input: { id: apiKey.id } }),
      (data) => data.revokeApiKey,
      "RevokeApiKeyPayload",
    );
    setConfirming(false);
    onOutcome(
      outcome.kind === "done"
        ? {
            kind: "ok",
            text: `The key “${apiKey.name}” is revoked: its next request is refused.`,
          }
        : { kind: "error", text: outcome.text },
    );
  }

  return (
    <tr data-key-prefix={apiKey.prefix} data-revoked={apiKey.revokedAt ? "true" : "false"}>
      <td data-label="Name">{apiKey.name}</td>
      <td data-label="Organisation">{apiKey.organization?.name ?? "—"}</td>
      <td data-label="Prefix" className="mono small">
        {keyPreview(apiKey.prefix)}
      </td>
      <td data-label="Scopes">{scopesLabel(apiKey.scopes)}</td>
      <td data-label="Created">{formatDateTime(apiKey.createdAt)}</td>
      <td data-label="Last used">
        {apiKey.lastUsedAt ? formatDateTime(apiKey.lastUsedAt) : "Never"}
      </td>
      <td data-label="Revoked">{apiKey.revokedAt ? formatDateTime(apiKey.revokedAt) : "No"}</td>
      <td data-label="">
        {apiKey.revokedAt ? null : confirming ? (
          <ConfirmRevoke
            name={apiKey.name}
            busy={fetching}
            onConfirm={revokeNow}
            onCancel={() => {
              setConfirming(false);
              requestAnimationFrame(() => revokeButton.current?.focus());
            }}
          />
        ) : (
          <button
            ref={revokeButton}
            type="button"
            className="button button--small button--danger"
            aria-label={`Revoke ${apiKey.name}`}
            onClick={() => setConfirming(true)}
          >
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

function ConfirmRevoke({
  name,
  busy,
  onConfirm,
  onCancel,
}: {
  name: string;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const confirmButton = useFocusOnMount<HTMLButtonElement>();
  return (
    <div
      role="group"
      aria-label={`Confirm revoking ${name}`}
      className="actions"
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          onCancel();
        }
      }}
    >
      <p className="small">Revoke “{name}”? Requests with it are refused at once.</p>
      <div className="actions__row">
        <button
          ref={confirmButton}
          type="button"
          className="button button--small button--danger"
          disabled={busy}
          onClick={onConfirm}
        >
          Yes, revoke
        </button>
        <button
          type="button"
          className="button button--small button--secondary"
          disabled={busy}
          onClick={onCancel}
        >
          Keep it
        </button>
      </div>
    </div>
  );
}
