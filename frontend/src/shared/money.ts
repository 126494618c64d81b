/**
 * Money as the API gives it: a decimal string (`amount`, e.g. "129.00") or integer minor units
 * as a string of digits (`amountMinor`), and an ISO 4217 currency. Nothing here goes through a
 * float: amounts are split, grouped and compared as strings and BigInts.
 */

export interface MoneyValue {
  readonly amount: string;
  readonly currency: string;
}

export const LOCALE = "en-GB";

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** How many minor digits a currency has (EUR 2, JPY 0), from the platform's ISO tables. */
export function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat(LOCALE, { style: "currency", currency }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

function currencySymbol(currency: string): { symbol: string; before: boolean } {
  try {
    const parts = new Intl.NumberFormat(LOCALE, { style: "currency", currency }).formatToParts(1);
    const index = parts.findIndex((part) => part.type === "currency");
    const integer = parts.findIndex((part) => part.type === "integer");
    const symbol = parts[index]?.value ?? currency;
    return { symbol, before: index < integer };
  } catch {
    return { symbol: `${currency} `, before: true };
  }
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "€1,299.00" for {amount: "1299.00", currency: "EUR"}; "−€5.00" for a negative amount. */
export function formatMoney(money: MoneyValue): string {
  const match = DECIMAL.exec(money.amount.trim());
  if (!match) {
    return `${money.amount} ${money.currency}`;
  }
  const [, sign, integer = "0", fraction = ""] = match;
  const digits = minorDigits(money.currency);
  const paddedFraction = fraction.padEnd(digits, "0");
  const number = group(integer.replace(/^0+(?=\d)/, "")) + (digits > 0 ? `.${paddedFraction}` : "");
  const { symbol, before } = currencySymbol(money.currency);
  const body = before ? `${symbol}${number}` : `${number}\u00a0${symbol}`;
  return sign ? `\u2212${body}` : body;
}

/** "45050" (minor units) as "450.50", for prefilling an amount field. */
export function minorToDecimal(minor: string, currency: string): string {
  const negative = minor.startsWith("-");
  const digits = (negative ? minor.slice(1) : minor).replace(/^0+(?=\d)/, "");
  const places = minorDigits(currency);
  if (places === 0) {
    return (negative ? "-" : "") + digits;
  }
  const padded = digits.padStart(places + 1, "0");
  const text = `${padded.slice(0, -places)}.${padded.slice(-places)}`;
  return (negative ? "-" : "") + text;
}

export type MoneyInput =
  | { readonly kind: "empty" }
  | { readonly kind: "valid"; readonly minor: string }
  | { readonly kind: "invalid"; readonly message: string };

/**
 * What a person typed in an amount field, as minor units: "450", "450.5", "1,299.00" and
 * "€ 450" are fine; a negative amount, letters or too many decimals are not.
 */
export function parseMoneyInput(raw: string, currency: string): MoneyInput {
  // A currency sign or code in front is fine ("€450", "EUR 450"); nothing else is.
  const text = raw
    .replace(/[\s\u00a0,]/g, "")
    .replace(/^\p{Sc}/u, "")
    .replace(new RegExp(`^${currency.replace(/[^A-Za-z]/g, "")}`, "i"), "");
  if (text === "") {
    return { kind: "empty" };
  }
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[1] === "" && (match[2] ?? "") === "")) {
    return { kind: "invalid", message: "Enter an amount in figures, such as 450 or 450.50." };
  }
  const places = minorDigits(currency);
  const fraction = match[2] ?? "";
  if (fraction.length > places) {
    return {
      kind: "invalid",
      message:
        places === 0
          ? `${currency} amounts have no decimals.`
          : `${currency} amounts have at most ${places} decimals.`,
    };
  }
  const minor = `${match[1] ?? ""}${fraction.padEnd(places, "0")}`.replace(/^0+(?=\d)/, "");
  return { kind: "valid", minor: minor === "" ? "0" : minor };
}

/** -1, 0 or 1: compares two minor-unit strings exactly. */
export function compareMinor(left: string, right: string): number {
  const a = BigInt(left);
  const b = BigInt(right);
  return a < b ? -1 : a > b ? 1 : 0;
}
