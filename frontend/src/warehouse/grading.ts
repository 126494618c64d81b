/**
 * What the warehouse may do with a device in each status (app/services/grading.py), and the
 * grade form's values as a RecordGradeInput.
 */

import type {
  BlacklistStatus,
  CosmeticGrade,
  DeviceStatus,
  LockStatus,
  RecordGradeInput,
} from "../gql/graphql";

export const GRADABLE: readonly DeviceStatus[] = ["RECEIVED", "GRADED", "AVAILABLE", "QUARANTINED"];
export const QUARANTINABLE: readonly DeviceStatus[] = ["RECEIVED", "GRADED"];

export function mayGrade(status: DeviceStatus): boolean {
  return GRADABLE.includes(status);
}

export function mayQuarantine(status: DeviceStatus): boolean {
  return QUARANTINABLE.includes(status);
}

export interface GradeForm {
  readonly cosmetic: CosmeticGrade | "";
  readonly functionalPass: boolean;
  readonly failedChecks: string;
  readonly batteryHealthPct: string;
  readonly dataWiped: boolean;
  readonly lockStatus: LockStatus;
  readonly blacklistStatus: BlacklistStatus;
  readonly notes: string;
}

export const NEW_GRADE: GradeForm = {
  cosmetic: "",
  functionalPass: true,
  failedChecks: "",
  batteryHealthPct: "",
  dataWiped: true,
  lockStatus: "UNLOCKED",
  blacklistStatus: "CLEAN",
  notes: "",
};

export type GradeProblems = Partial<
  Record<"cosmetic" | "batteryHealthPct" | "failedChecks", string>
>;

/** "screen, battery , " -> ["screen", "battery"] */
export function parseChecks(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((check) => check.trim())
    .filter((check) => check !== "");
}

export function gradeInput(
  deviceId: string,
  version: number,
  form: GradeForm,
): { input: RecordGradeInput | null; problems: GradeProblems } {
  const problems: GradeProblems = {};
  if (form.cosmetic === "") {
    problems.cosmetic = "Choose the cosmetic grade.";
  }
  let battery: number | null = null;
  if (form.batteryHealthPct.trim() !== "") {
    const value = Number(form.batteryHealthPct.trim().replace(/%$/, ""));
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      problems.batteryHealthPct = "Battery health is a whole number from 0 to 100.";
    } else {
      battery = value;
    }
  }
  const checks = parseChecks(form.failedChecks);
  if (!form.functionalPass && checks.length === 0) {
    problems.failedChecks = "Name the checks that failed, separated by commas.";
  }
  if (Object.keys(problems).length > 0 || form.cosmetic === "") {
    return { input: null, problems };
  }
  const input: RecordGradeInput = {
    deviceId,
    cosmetic: form.cosmetic,
    functionalPass: form.functionalPass,
    dataWiped: form.dataWiped,
    failedChecks: form.functionalPass ? [] : checks,
    batteryHealthPct: battery,
    notes: form.notes.trim() || null,
    lockStatus: form.lockStatus,
    blacklistStatus: form.blacklistStatus,
    expectedVersion: version,
  };
  return { input, problems };
}

/** What a grade means for listing the device (rule 1), for the person grading it. */
export function listableSentence(form: GradeForm): string {
  const blockers = [
    form.dataWiped ? null : "data is not wiped",
    form.lockStatus === "LOCKED" ? "it is locked" : null,
    form.blacklistStatus === "BLACKLISTED" ? "it is blacklisted" : null,
  ].filter(Boolean);
  return blockers.length === 0
    ? "With this grade the device may be listed."
    : `It cannot be listed: ${blockers.join(", ")}.`;
}
