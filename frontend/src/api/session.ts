/**
 * The signed-in session: the bearer token from `signIn`, kept in localStorage so a reload or a
 * second tab (GraphiQL too) stays signed in until the token expires or the person signs out.
 */

export interface Session {
  readonly token: string;
  /** ISO 8601, from SignInPayload.expiresAt. */
  readonly expiresAt: string;
}

export const SESSION_KEY = "devicegraph.session";

type KeyValueStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function browserStorage(): KeyValueStore | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null; // storage disabled: sessions last as long as the page
  }
}

/** The stored session, or null when there is none, it is malformed or it has expired. */
export function loadSession(
  storage: KeyValueStore | null = browserStorage(),
  now: number = Date.now(),
): Session | null {
  const raw = storage?.getItem(SESSION_KEY);
  if (!raw) {
    return null;
  }
  try {
    const value: unknown = JSON.parse(raw);
    if (
      typeof value === "object" &&
      value !== null &&
      "token" in value &&
      "expiresAt" in value &&
      typeof value.token === "string" &&
      typeof value.expiresAt === "string" &&
      value.token !== "" &&
      Date.parse(value.expiresAt) > now
    ) {
      return { token: value.token, expiresAt: value.expiresAt };
    }
  } catch {
    // fall through: a malformed entry is dropped
  }
  storage?.removeItem(SESSION_KEY);
  return null;
}

export function saveSession(session: Session, storage: KeyValueStore | null = browserStorage()) {
  storage?.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(storage: KeyValueStore | null = browserStorage()) {
  storage?.removeItem(SESSION_KEY);
}

/** Headers for a request on behalf of the session (none when signed out). */
export function authHeaders(session: Session | null): Record<string, string> {
  return session ? { Authorization: `Bearer ${session.token}` } : {};
}
