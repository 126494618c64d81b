import { type FormEvent, useId, useRef, useState } from "react";
import { useMutation } from "urql";

import { IMEI_LENGTH, checkImei } from "../shared/imei";
import { describeRequestError } from "../shared/errors";
import { asSentence } from "../shared/text";
import { ReceiveDeviceMutation } from "./operations";

type Field = "clientId" | "make" | "model" | "imei";

interface Values {
  clientId: string;
  make: string;
  model: string;
  imei: string;
}

type Outcome =
  | { kind: "received"; text: string }
  | { kind: "refused"; text: string; field: Field | null }
  | null;

const EMPTY: Values = { clientId: "", make: "", model: "", imei: "" };

function asField(name: string | null | undefined): Field | null {
  return name === "clientId" || name === "make" || name === "model" || name === "imei"
    ? name
    : null;
}

export function ReceiveDeviceForm() {
  const [values, setValues] = useState<Values>(EMPTY);
  const [imeiDone, setImeiDone] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [{ fetching }, receiveDevice] = useMutation(ReceiveDeviceMutation);
  const imeiInput = useRef<HTMLInputElement>(null);
  const makeInput = useRef<HTMLInputElement>(null);
  const id = useId();
  const ids = {
    clientId: `${id}-client`,
    make: `${id}-make`,
    model: `${id}-model`,
    imei: `${id}-imei`,
    imeiHint: `${id}-imei-hint`,
    outcome: `${id}-outcome`,
  };

  // Checked on every keystroke; a short IMEI becomes an error once the field is left.
  const imeiCheck = checkImei(values.imei, { final: imeiDone });
  const imeiInvalid = imeiCheck.kind === "invalid";
  const refusedField = outcome?.kind === "refused" ? outcome.field : null;

  function update(field: Field, value: string) {
    setValues((current) => ({ ...current, [field]: value }));
    if (field === "imei") {
      setImeiDone(false);
    }
    if (outcome?.kind === "refused" && outcome.field === field) {
      setOutcome(null);
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const check = checkImei(values.imei, { final: true });
    setImeiDone(true);
    if (check.kind !== "valid") {
      imeiInput.current?.focus();
      return;
    }
    setOutcome(null);
    const result = await receiveDevice({
      input: {
        clientId: values.clientId.trim(),
        make: values.make.trim(),
        model: values.model.trim(),
        imei: check.imei,
      },
    });
    if (result.error) {
      setOutcome({ kind: "refused", text: describeRequestError(result.error), field: null });
      return;
    }
    const received = result.data?.receiveDevice;
    if (!received) {
      return;
    }
    if (received.__typename === "ReceiveDevicePayload") {
      const { device } = received;
      setOutcome({
        kind: "received",
        text: `Received ${device.make} ${device.model}, IMEI ${device.imei ?? check.imei}.`,
      });
      // The next device usually comes from the same client.
      setValues({ ...EMPTY, clientId: values.clientId });
      setImeiDone(false);
      makeInput.current?.focus();
      return;
    }
    const field = "field" in received ? asField(received.field) : null;
    setOutcome({ kind: "refused", text: asSentence(received.message), field });
  }

  function describedBy(field: Field): string | undefined {
    return refusedField === field ? ids.outcome : undefined;
  }

  return (
    <section className="card page__form" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Receive device</h2>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={ids.clientId}>Client id</label>
          <input
            id={ids.clientId}
            name="clientId"
            required
            autoComplete="off"
            spellCheck={false}
            value={values.clientId}
            aria-invalid={refusedField === "clientId" || undefined}
            aria-describedby={describedBy("clientId")}
            onChange={(event) => update("clientId", event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.make}>Make</label>
          <input
            id={ids.make}
            ref={makeInput}
            name="make"
            required
            maxLength={100}
            value={values.make}
            aria-invalid={refusedField === "make" || undefined}
            aria-describedby={describedBy("make")}
            onChange={(event) => update("make", event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.model}>Model</label>
          <input
            id={ids.model}
            name="model"
            required
            maxLength={100}
            value={values.model}
            aria-invalid={refusedField === "model" || undefined}
            aria-describedby={describedBy("model")}
            onChange={(event) => update("model", event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.imei}>IMEI</label>
          <input
            id={ids.imei}
            ref={imeiInput}
            name="imei"
            required
            inputMode="numeric"
            autoComplete="off"
            spellCheck={false}
            className="mono"
            value={values.imei}
            aria-invalid={imeiInvalid || refusedField === "imei" || undefined}
            aria-describedby={[ids.imeiHint, describedBy("imei")].filter(Boolean).join(" ")}
            onChange={(event) => update("imei", event.target.value)}
            onBlur={() => setImeiDone(values.imei.trim() !== "")}
          />
          <p
            id={ids.imeiHint}
            className={imeiInvalid ? "hint hint--error" : "hint"}
            aria-live="polite"
          >
            {imeiHint(imeiCheck)}
          </p>
        </div>
        <button type="submit" className="button" disabled={fetching}>
          {fetching ? "Receiving…" : "Receive device"}
        </button>
        {outcome ? (
          <p
            id={ids.outcome}
            className={outcome.kind === "received" ? "notice notice--ok" : "notice notice--error"}
            role={outcome.kind === "received" ? "status" : "alert"}
          >
            {outcome.text}
          </p>
        ) : null}
      </form>
    </section>
  );
}

function imeiHint(check: ReturnType<typeof checkImei>): string {
  switch (check.kind) {
    case "empty":
      return `${IMEI_LENGTH} digits; spaces and dashes are fine.`;
    case "incomplete":
      return `${check.digits} of ${IMEI_LENGTH} digits.`;
    case "invalid":
      return check.message;
    case "valid":
      return "Check digit OK.";
  }
}
