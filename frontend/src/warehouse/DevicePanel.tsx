import { type FormEvent, useId, useState } from "react";
import { useMutation } from "urql";

import type { CosmeticGrade, DeviceRowFragment } from "../gql/graphql";
import { formatDateTime } from "../shared/dates";
import { outcomeOf } from "../shared/errors";
import {
  Notice,
  type NoticeValue,
  StatusBadge,
  newIdempotencyKey,
  useFocusOnMount,
} from "../shared/ui";
import {
  type GradeForm,
  type GradeProblems,
  NEW_GRADE,
  gradeInput,
  listableSentence,
  mayGrade,
  mayQuarantine,
} from "./grading";
import {
  ClearQuarantineMutation,
  QuarantineDeviceMutation,
  RecordGradeMutation,
} from "./operations";

const COSMETIC: readonly CosmeticGrade[] = ["A", "B", "C", "D"];

interface Props {
  device: DeviceRowFragment;
  onClose: () => void;
  onChanged: () => void;
}

/** One device: its facts, and the warehouse's actions for its status. */
export function DevicePanel({ device, onClose, onChanged }: Props) {
  const id = useId();
  const [notice, setNotice] = useState<NoticeValue>(null);
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const identifier = device.imei ? `IMEI ${device.imei}` : `Serial ${device.serial ?? "—"}`;
  const grade = device.currentGrade;
  const report = (value: NoticeValue) => {
    setNotice(value);
    onChanged();
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-device-panel={device.id}>
      <div className="toolbar">
        <h2 id={`${id}-title`} ref={heading} tabIndex={-1}>
          {device.make} {device.model}
        </h2>
        <button type="button" className="button button--link" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="facts facts--compact">
        <dt>Identifier</dt>
        <dd className="mono">{identifier}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={device.status} />
        </dd>
        <dt>Lock / blacklist</dt>
        <dd>
          {device.lockStatus === "LOCKED" ? "Locked" : "Unlocked"} ·{" "}
          {device.blacklistStatus === "BLACKLISTED" ? "Blacklisted" : "Clean"}
        </dd>
        <dt>Location</dt>
        <dd>{device.location ?? "—"}</dd>
        <dt>Lot</dt>
        <dd>{device.lot?.reference ?? "—"}</dd>
        <dt>Current grade</dt>
        <dd>
          {grade
            ? `${grade.cosmetic} · ${grade.functionalPass ? "passes" : "fails"} · ${
                grade.dataWiped ? "wiped" : "not wiped"
              } · ${formatDateTime(grade.gradedAt)}`
            : "Not graded yet"}
        </dd>
      </dl>
      <Notice notice={notice} />
      {mayGrade(device.status) ? <GradeDeviceForm device={device} onOutcome={report} /> : null}
      {mayQuarantine(device.status) ? <QuarantineForm device={device} onOutcome={report} /> : null}
      {device.status === "QUARANTINED" ? (
        <ClearQuarantineButton device={device} onOutcome={report} />
      ) : null}
      {!mayGrade(device.status) && !mayQuarantine(device.status) ? (
        <p className="muted">
          A {device.status.toLowerCase()} device belongs to an order: it is not graded again.
        </p>
      ) : null}
    </section>
  );
}

function GradeDeviceForm({
  device,
  onOutcome,
}: {
  device: DeviceRowFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const id = useId();
  const [form, setForm] = useState<GradeForm>({
    ...NEW_GRADE,
    lockStatus: device.lockStatus,
    blacklistStatus: device.blacklistStatus,
  });
  const [problems, setProblems] = useState<GradeProblems>({});
  const [{ fetching }, recordGrade] = useMutation(RecordGradeMutation);
  const set = <K extends keyof GradeForm>(key: K, value: GradeForm[K]) => {
    setForm((current) => ({ ...current, [key]: value }));
    setProblems((current) => ({ ...current, [key]: undefined }));
  };

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { input, problems: found } = gradeInput(device.id, device.version, form);
    setProblems(found);
    if (!input) {
      return;
    }
    const outcome = outcomeOf(
      await recordGrade({ input: { ...input, idempotencyKey: newIdempotencyKey() } }),
      (data) => data.recordGrade,
      "RecordGradePayload",
    );
    if (outcome.kind === "done") {
      onOutcome({
        kind: "ok",
        text: outcome.value.delisted
          ? `Graded ${form.cosmetic}. It fails the listing rules, so it was taken off sale.`
          : `Graded ${form.cosmetic}.`,
      });
      setForm({ ...NEW_GRADE, lockStatus: form.lockStatus, blacklistStatus: form.blacklistStatus });
    } else {
      onOutcome({ kind: "error", text: outcome.text });
    }
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-title`} className="subform">
      <h3 id={`${id}-title`}>Record a grade</h3>
      <fieldset className="field">
        <legend>Cosmetic grade</legend>
        <div className="grades__options">
          {COSMETIC.map((value) => (
            <label key={value} className="check">
              <input
                type="radio"
                name={`${id}-cosmetic`}
                value={value}
                checked={form.cosmetic === value}
                onChange={() => set("cosmetic", value)}
              />
              {value}
            </label>
          ))}
        </div>
        {problems.cosmetic ? <p className="hint hint--error">{problems.cosmetic}</p> : null}
      </fieldset>
      <label className="check">
        <input
          type="checkbox"
          checked={form.functionalPass}
          onChange={(event) => set("functionalPass", event.target.checked)}
        />
        Passes every function test
      </label>
      {!form.functionalPass ? (
        <div className="field">
          <label htmlFor={`${id}-checks`}>Failed checks</label>
          <input
            id={`${id}-checks`}
            value={form.failedChecks}
            placeholder="e.g. camera, speaker"
            aria-invalid={problems.failedChecks ? true : undefined}
            onChange={(event) => set("failedChecks", event.target.value)}
          />
          {problems.failedChecks ? (
            <p className="hint hint--error">{problems.failedChecks}</p>
          ) : null}
        </div>
      ) : null}
      <div className="field">
        <label htmlFor={`${id}-battery`}>Battery health (%)</label>
        <input
          id={`${id}-battery`}
          inputMode="numeric"
          value={form.batteryHealthPct}
          aria-invalid={problems.batteryHealthPct ? true : undefined}
          onChange={(event) => set("batteryHealthPct", event.target.value)}
        />
        {problems.batteryHealthPct ? (
          <p className="hint hint--error">{problems.batteryHealthPct}</p>
        ) : null}
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={form.dataWiped}
          onChange={(event) => set("dataWiped", event.target.checked)}
        />
        Data wiped
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={form.lockStatus === "LOCKED"}
          onChange={(event) => set("lockStatus", event.target.checked ? "LOCKED" : "UNLOCKED")}
        />
        Locked (activation lock or carrier lock)
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={form.blacklistStatus === "BLACKLISTED"}
          onChange={(event) =>
            set("blacklistStatus", event.target.checked ? "BLACKLISTED" : "CLEAN")
          }
        />
        Blacklisted
      </label>
      <div className="field">
        <label htmlFor={`${id}-notes`}>Notes</label>
        <input
          id={`${id}-notes`}
          value={form.notes}
          onChange={(event) => set("notes", event.target.value)}
        />
      </div>
      <p className="hint">{listableSentence(form)}</p>
      <button type="submit" className="button" disabled={fetching}>
        {fetching ? "Saving…" : "Save grade"}
      </button>
    </form>
  );
}

function QuarantineForm({
  device,
  onOutcome,
}: {
  device: DeviceRowFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const id = useId();
  const [reason, setReason] = useState("");
  const [locked, setLocked] = useState(device.lockStatus === "LOCKED");
  const [blacklisted, setBlacklisted] = useState(device.blacklistStatus === "BLACKLISTED");
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, quarantine] = useMutation(QuarantineDeviceMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!reason.trim()) {
      setProblem("Say why the device is held apart.");
      return;
    }
    setProblem(null);
    const outcome = outcomeOf(
      await quarantine({
        input: {
          deviceId: device.id,
          reason: reason.trim(),
          lockStatus: locked ? "LOCKED" : "UNLOCKED",
          blacklistStatus: blacklisted ? "BLACKLISTED" : "CLEAN",
          expectedVersion: device.version,
          idempotencyKey: newIdempotencyKey(),
        },
      }),
      (data) => data.quarantineDevice,
      "QuarantineDevicePayload",
    );
    onOutcome(
      outcome.kind === "done"
        ? { kind: "ok", text: "Quarantined: the device is held apart until it is cleared." }
        : { kind: "error", text: outcome.text },
    );
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby={`${id}-title`} className="subform">
      <h3 id={`${id}-title`}>Quarantine</h3>
      <div className="field">
        <label htmlFor={`${id}-reason`}>Reason</label>
        <input
          id={`${id}-reason`}
          value={reason}
          aria-invalid={problem ? true : undefined}
          onChange={(event) => setReason(event.target.value)}
        />
        {problem ? <p className="hint hint--error">{problem}</p> : null}
      </div>
      <label className="check">
        <input type="checkbox" checked={locked} onChange={(e) => setLocked(e.target.checked)} />
        Locked
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={blacklisted}
          onChange={(e) => setBlacklisted(e.target.checked)}
        />
        Blacklisted
      </label>
      <button type="submit" className="button button--danger" disabled={fetching}>
        Quarantine device
      </button>
    </form>
  );
}

function ClearQuarantineButton({
  device,
  onOutcome,
}: {
  device: DeviceRowFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [{ fetching }, clear] = useMutation(ClearQuarantineMutation);
  async function handle() {
    const outcome = outcomeOf(
      await clear({
        input: {
          deviceId: device.id,
          expectedVersion: device.version,
          idempotencyKey: newIdempotencyKey(),
        },
      }),
      (data) => data.clearQuarantine,
      "ClearQuarantinePayload",
    );
    onOutcome(
      outcome.kind === "done"
        ? { kind: "ok", text: "Cleared: the device is unlocked and clean, back to graded." }
        : { kind: "error", text: outcome.text },
    );
  }
  return (
    <div className="subform">
      <h3>Quarantine</h3>
      <p className="muted">Clear it once the device is unlocked and clean.</p>
      <button type="button" className="button" disabled={fetching} onClick={handle}>
        Clear quarantine
      </button>
    </div>
  );
}
