import { useCallback, useEffect, useMemo, useState } from "react";
import { Provider, useMutation, useQuery } from "urql";

import { type LiveConnection, createGraphQLClient } from "./api/client";
import { type Session, clearSession, loadSession, saveSession } from "./api/session";
import { ViewerQuery, SignOutMutation } from "./auth/operations";
import { canReceiveDevices, roleLabel } from "./auth/roles";
import { SignInPage } from "./auth/SignInPage";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { DevicesPage } from "./devices/DevicesPage";
import { describeRequestError } from "./lib/errors";

/** Holds the session; a new session gets a new urql client, and so an empty cache. */
export function App({ live }: { live: LiveConnection }) {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const signedOut = useCallback(() => {
    clearSession();
    setSession(null);
  }, []);
  const signedIn = useCallback((next: Session) => {
    saveSession(next);
    setSession(next);
  }, []);
  const client = useMemo(
    () => createGraphQLClient({ socket: live.socket, session, onUnauthenticated: signedOut }),
    [live.socket, session, signedOut],
  );
  return (
    <Provider value={client}>
      {/* Remounted per session: no state of the previous one survives. */}
      <Shell
        key={session?.token ?? "signed-out"}
        live={live}
        hasSession={session !== null}
        onSignedIn={signedIn}
        onSignedOut={signedOut}
      />
    </Provider>
  );
}

interface ShellProps {
  live: LiveConnection;
  hasSession: boolean;
  onSignedIn: (session: Session) => void;
  onSignedOut: () => void;
}

function Shell({ live, hasSession, onSignedIn, onSignedOut }: ShellProps) {
  const [{ data, error, fetching }] = useQuery({ query: ViewerQuery });
  const [, signOut] = useMutation(SignOutMutation);
  const user = data?.viewer.user ?? null;
  const organization = data?.viewer.organization ?? null;

  // A stored token the server no longer knows (expired, revoked): back to signing in.
  useEffect(() => {
    if (hasSession && data && !user) {
      onSignedOut();
    }
  }, [hasSession, data, user, onSignedOut]);

  async function handleSignOut() {
    await signOut({});
    onSignedOut();
  }

  let content;
  if (error && !data) {
    content = (
      <p className="notice notice--error" role="alert">
        {describeRequestError(error)}
      </p>
    );
  } else if (fetching && !data) {
    content = <p className="muted">Loading…</p>;
  } else if (user && organization) {
    content = (
      <DevicesPage
        canReceive={canReceiveDevices({ role: user.role, organizationKind: organization.kind })}
      />
    );
  } else {
    content = <SignInPage onSignedIn={onSignedIn} />;
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="header">
        <div className="header__inner">
          <a className="brand" href="/">
            DeviceGraph
          </a>
          <nav aria-label="Main" className="nav">
            {user ? (
              <a href="/" aria-current="page">
                Devices
              </a>
            ) : null}
          </nav>
          <ConnectionIndicator status={live.status} />
          {user && organization ? (
            <div className="account">
              <span className="account__who">
                {user.name}
                <span className="account__role">
                  {roleLabel(user.role)} · {organization.name}
                </span>
              </span>
              <button type="button" className="button button--quiet" onClick={handleSignOut}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {content}
      </main>
    </>
  );
}
