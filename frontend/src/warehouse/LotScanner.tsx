import { type FormEvent, useId, useRef, useState } from "react";
import { useMutation } from "urql";

import type { LotRowFragment } from "../gql/graphql";
import { outcomeOf } from "../shared/errors";
import { IMEI_LENGTH, checkImei } from "../shared/imei";
import { useFocusOnMount } from "../shared/ui";
import { lotProgress } from "./clients";
import { ReceiveDeviceMutation } from "./operations";

interface Scan {
  readonly key: number;
  readonly imei: string;
  readonly ok: boolean;
  readonly text: string;
}

interface Props {
  lot: LotRowFragment;
  onClose: () => void;
  onReceived: () => void;
}

/**
 * Receive devices into a lot one scan at a time. A barcode scanner types the IMEI and presses
 * Enter; so can a person. The model fields stay for the next device of the same batch.
 */
export function LotScanner({ lot, onClose, onReceived }: Props) {
  const id = useId();
  const [make, setMake] = useState("");
  const [model, setModel] = useState("");
  const [storage, setStorage] = useState("");
  const [location, setLocation] = useState("");
  const [imei, setImei] = useState("");
  const [imeiDone, setImeiDone] = useState(false);
  const [scans, setScans] = useState<Scan[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, receive] = useMutation(ReceiveDeviceMutation);
  const imeiInput = useRef<HTMLInputElement>(null);
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const counter = useRef(0);
  const check = checkImei(imei, { final: imeiDone });
  const hint =
    check.kind === "empty"
      ? `Scan the barcode or type ${IMEI_LENGTH} digits, then Enter.`
      : check.kind === "incomplete"
        ? `${check.digits} of ${IMEI_LENGTH} digits.`
        : check.kind === "invalid"
          ? check.message
          : "Check digit OK: press Enter to receive.";

  function log(scan: Omit<Scan, "key">) {
    counter.current += 1;
    setScans((current) => [{ ...scan, key: counter.current }, ...current].slice(0, 20));
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const final = checkImei(imei, { final: true });
    setImeiDone(true);
    if (!make.trim() || !model.trim()) {
      setProblem("Enter the make and model of this batch first.");
      return;
    }
    if (final.kind !== "valid") {
      imeiInput.current?.focus();
      return;
    }
    const storageGb = storage.trim() === "" ? null : Number(storage);
    if (storageGb !== null && (!Number.isInteger(storageGb) || storageGb <= 0)) {
      setProblem("Storage is a whole number of GB.");
      return;
    }
    setProblem(null);
    const outcome = outcomeOf(
      await receive({
        input: {
          clientId: lot.client?.id ?? "",
          lotId: lot.id,
          make: make.trim(),
          model: model.trim(),
          imei: final.imei,
          storageGb,
          location: location.trim() || null,
        },
      }),
      (data) => data.receiveDevice,
      "ReceiveDevicePayload",
    );
    if (outcome.kind === "done") {
      log({ imei: final.imei, ok: true, text: `Received ${make.trim()} ${model.trim()}.` });
      setImei("");
      setImeiDone(false);
      onReceived();
    } else {
      log({ imei: final.imei, ok: false, text: outcome.text });
    }
    imeiInput.current?.focus();
  }

  const imeiInvalid = check.kind === "invalid";
  return (
    <section className="card scanner" aria-labelledby={`${id}-title`}>
      <div className="toolbar">
        <h2 id={`${id}-title`} ref={heading} tabIndex={-1}>
          Receive into {lot.reference}
        </h2>
        <button type="button" className="button button--link" onClick={onClose}>
          Done
        </button>
      </div>
      <p className="scanner__progress" aria-live="polite" data-testid="scanner-progress">
        {lotProgress(lot)}
      </p>
      <form onSubmit={submit} noValidate>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-make`}>Make</label>
            <input id={`${id}-make`} value={make} onChange={(e) => setMake(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-model`}>Model</label>
            <input id={`${id}-model`} value={model} onChange={(e) => setModel(e.target.value)} />
          </div>
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-storage`}>Storage (GB)</label>
            <input
              id={`${id}-storage`}
              inputMode="numeric"
              value={storage}
              onChange={(e) => setStorage(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-location`}>Location</label>
            <input
              id={`${id}-location`}
              value={location}
              placeholder="e.g. A-01"
              onChange={(e) => setLocation(e.target.value)}
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${id}-imei`}>Scan IMEI</label>
          <input
            id={`${id}-imei`}
            ref={imeiInput}
            className="mono scanner__input"
            inputMode="numeric"
            autoComplete="off"
            spellCheck={false}
            value={imei}
            aria-invalid={imeiInvalid || undefined}
            aria-describedby={`${id}-imei-hint`}
            onChange={(event) => {
              setImei(event.target.value);
              setImeiDone(false);
            }}
            onBlur={() => setImeiDone(imei.trim() !== "")}
          />
          <p
            id={`${id}-imei-hint`}
            className={imeiInvalid ? "hint hint--error" : "hint"}
            aria-live="polite"
          >
            {hint}
          </p>
        </div>
        <button type="submit" className="button" disabled={fetching}>
          {fetching ? "Receiving…" : "Receive"}
        </button>
        {problem ? (
          <p className="notice notice--error" role="alert">
            {problem}
          </p>
        ) : null}
      </form>
      {scans.length > 0 ? (
        <ol className="scan-log" aria-label="Scanned" aria-live="polite">
          {scans.map((scan) => (
            <li key={scan.key} className={scan.ok ? "scan scan--ok" : "scan scan--error"}>
              <span className="mono">{scan.imei}</span> {scan.ok ? "✓" : "✗"} {scan.text}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
