/** Dates and times for people: the browser's time zone, a fixed English format. */

import { LOCALE } from "./money";

const DATE_TIME = new Intl.DateTimeFormat(LOCALE, {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const DATE = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", year: "numeric" });
const TIME = new Intl.DateTimeFormat(LOCALE, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) {
    return "—";
  }
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : DATE_TIME.format(time);
}

export function formatTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : TIME.format(time);
}

/** A `Date` scalar ("2026-11-01") as "1 Nov 2026", without moving it across a time zone. */
export function formatDay(day: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) {
    return day;
  }
  return DATE.format(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 12));
}

/** "in 47 hours", "in 5 minutes", "expired" — for offers' expiry. */
export function timeLeft(iso: string, now: number = Date.now()): string {
  const millis = Date.parse(iso) - now;
  if (Number.isNaN(millis)) {
    return iso;
  }
  if (millis <= 0) {
    return "expired";
  }
  const minutes = Math.round(millis / 60_000);
  if (minutes < 60) {
    return minutes <= 1 ? "in a minute" : `in ${minutes} minutes`;
  }
  const hours = Math.round(minutes / 60);
  return hours === 1 ? "in an hour" : `in ${hours} hours`;
}

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
