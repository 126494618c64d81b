/**
 * IMEI checks as a person types: the same rule as the server (app/domain/identifiers.py),
 * 15 digits whose last one is the Luhn check digit; spaces and dashes are allowed.
 */

export const IMEI_LENGTH = 15;

export type ImeiCheck =
  | { readonly kind: "valid"; readonly imei: string }
  | { readonly kind: "empty" }
  | { readonly kind: "incomplete"; readonly digits: number }
  | { readonly kind: "invalid"; readonly message: string };

/** Drop the spaces and dashes that scanners and people put between digit groups. */
export function normalizeImei(raw: string): string {
  return raw.replace(/[\s-]/g, "");
}

/** True when the digits pass the Luhn check (the last digit is the check digit). */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) {
    return false;
  }
  let total = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let value = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      value *= 2;
      if (value > 9) {
        value -= 9;
      }
    }
    total += value;
  }
  return total % 10 === 0;
}

/**
 * What to tell a person about what they typed so far. Fewer than 15 digits is `incomplete`,
 * not an error, while they are still typing; `final` (on blur or submit) makes it one.
 */
export function checkImei(raw: string, { final = false }: { final?: boolean } = {}): ImeiCheck {
  const imei = normalizeImei(raw);
  if (imei === "") {
    return { kind: "empty" };
  }
  if (!/^\d+$/.test(imei)) {
    return { kind: "invalid", message: "An IMEI has digits only (spaces and dashes are fine)." };
  }
  if (imei.length > IMEI_LENGTH) {
    return {
      kind: "invalid",
      message: `An IMEI has ${IMEI_LENGTH} digits; this has ${imei.length}.`,
    };
  }
  if (imei.length < IMEI_LENGTH) {
    if (final) {
      return {
        kind: "invalid",
        message: `An IMEI has ${IMEI_LENGTH} digits; this has ${imei.length}.`,
      };
    }
    return { kind: "incomplete", digits: imei.length };
  }
  if (!luhnValid(imei)) {
    return {
      kind: "invalid",
      message: "This IMEI fails its check digit: it was probably mistyped.",
    };
  }
  return { kind: "valid", imei };
}
