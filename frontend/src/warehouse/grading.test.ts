import { describe, expect, it } from "vitest";

import { lotProgress, knownClients } from "./clients";
import {
  NEW_GRADE,
  gradeInput,
  listableSentence,
  mayGrade,
  mayQuarantine,
  parseChecks,
} from "./grading";

describe("grading", () => {
  it("follows app/services/grading.py on what may be graded or quarantined", () => {
    expect(mayGrade("RECEIVED")).toBe(true);
    expect(mayGrade("AVAILABLE")).toBe(true);
    expect(mayGrade("SOLD")).toBe(false);
    expect(mayQuarantine("GRADED")).toBe(true);
    expect(mayQuarantine("AVAILABLE")).toBe(false);
  });

  it("builds the RecordGradeInput from the form", () => {
    const { input, problems } = gradeInput("RGV2aWNlOjE=", 3, {
      ...NEW_GRADE,
      cosmetic: "B",
      batteryHealthPct: "88%",
      notes: "  small scratch ",
    });
    expect(problems).toEqual({});
    expect(input).toEqual({
      deviceId: "RGV2aWNlOjE=",
      cosmetic: "B",
      functionalPass: true,
      dataWiped: true,
      failedChecks: [],
      batteryHealthPct: 88,
      notes: "small scratch",
      lockStatus: "UNLOCKED",
      blacklistStatus: "CLEAN",
      expectedVersion: 3,
    });
  });

  it("names what is missing or wrong", () => {
    const { input, problems } = gradeInput("d", 1, {
      ...NEW_GRADE,
      functionalPass: false,
      batteryHealthPct: "120",
    });
    expect(input).toBeNull();
    expect(problems).toEqual({
      cosmetic: "Choose the cosmetic grade.",
      batteryHealthPct: "Battery health is a whole number from 0 to 100.",
      failedChecks: "Name the checks that failed, separated by commas.",
    });
    expect(parseChecks("camera, speaker ,\nface id,")).toEqual(["camera", "speaker", "face id"]);
  });

  it("says whether the grade allows listing (rule 1)", () => {
    expect(listableSentence(NEW_GRADE)).toBe("With this grade the device may be listed.");
    expect(listableSentence({ ...NEW_GRADE, dataWiped: false, lockStatus: "LOCKED" })).toBe(
      "It cannot be listed: data is not wiped, it is locked.",
    );
  });
});

describe("lots and clients", () => {
  it("says what a lot lacks or has too many of", () => {
    const lot = { receivedCount: 2, expectedCount: 3, missingCount: 1, extraCount: 0 };
    expect(lotProgress(lot)).toBe("Received 2 of 3 · 1 missing");
    expect(lotProgress({ ...lot, receivedCount: 4, missingCount: 0, extraCount: 1 })).toBe(
      "Received 4 of 3 · 1 extra",
    );
    expect(lotProgress({ ...lot, receivedCount: 3, missingCount: 0 })).toBe(
      "Received 3 of 3 · complete",
    );
  });

  it("collects the clients it has seen, once each, by name", () => {
    expect(
      knownClients([
        { client: { id: "2", name: "Northwind" } },
        null,
        { client: null },
        { client: { id: "1", name: "Bluewave" } },
        { client: { id: "2", name: "Northwind" } },
      ]),
    ).toEqual([
      { id: "1", name: "Bluewave" },
      { id: "2", name: "Northwind" },
    ]);
  });
});
