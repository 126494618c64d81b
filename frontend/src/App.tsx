import { useCallback, useEffect, useMemo, useState } from "react";
import { Provider, useMutation, useQuery } from "urql";

import { type LiveConnection, createGraphQLClient, createLiveConnection } from "./api/client";
import { isTerminalClose } from "./api/status";
import { type Session, clearSession, loadSession, saveSession } from "./api/session";
import { roleLabel } from "./auth/roles";
import { SignInPage } from "./auth/SignInPage";
import { SignOutMutation, ViewerQuery } from "./auth/operations";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { Routed } from "./Routed";
import { homeRoute, mayOpen, navFor } from "./shared/access";
import { describeRequestError } from "./shared/errors";
import { LiveProvider, useConnectionStatus } from "./shared/live";
import { Link, navigate, useLocation } from "./shared/router";
import { parseRoute, staticPath } from "./shared/routes";
import { type Viewer, ViewerProvider } from "./shared/viewer";

const RESTART_MS = 3_000;

/** Holds the session; each session gets its own socket and urql client, so nothing leaks. */
export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const signedOut = useCallback(() => {
    clearSession();
    setSession(null);
  }, []);
  const signedIn = useCallback((next: Session) => {
    saveSession(next);
    setSession(next);
  }, []);
  return (
    <SessionApp
      key={session?.token ?? "signed-out"}
      session={session}
      onSignedIn={signedIn}
      onSignedOut={signedOut}
    />
  );
}

interface SessionProps {
  session: Session | null;
  onSignedIn: (session: Session) => void;
  onSignedOut: () => void;
}

/**
 * One session: the websocket authenticates in connection_init, so a new sign-in needs a new
 * socket (and a new cache).
 */
function SessionApp({ session, onSignedIn, onSignedOut }: SessionProps) {
  const [live, setLive] = useState<LiveConnection | null>(null);
  // graphql-ws stops retrying after some close codes: then start over with a new socket.
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const connection = createLiveConnection();
    setLive(connection);
    let timer: number | undefined;
    const stopWatching = connection.socket.on("closed", (event) => {
      const code = (event as { code?: unknown } | null)?.code;
      if (typeof code === "number" && isTerminalClose(code)) {
        timer = window.setTimeout(() => setGeneration((value) => value + 1), RESTART_MS);
      }
    });
    return () => {
      stopWatching();
      window.clearTimeout(timer);
      void connection.socket.dispose();
    };
  }, [generation]);
  const client = useMemo(
    () =>
      live
        ? createGraphQLClient({ socket: live.socket, session, onUnauthenticated: onSignedOut })
        : null,
    [live, session, onSignedOut],
  );
  if (!live || !client) {
    return null;
  }
  return (
    <Provider value={client}>
      <LiveProvider value={live}>
        <Shell
          live={live}
          hasSession={session !== null}
          onSignedIn={onSignedIn}
          onSignedOut={onSignedOut}
        />
      </LiveProvider>
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
  const location = useLocation();
  const user = data?.viewer.user ?? null;
  const organization = data?.viewer.organization ?? null;
  const viewer: Viewer | null = useMemo(
    () => (user && organization ? { user, organization } : null),
    [user, organization],
  );
  const role = viewer
    ? { role: viewer.user.role, organizationKind: viewer.organization.kind }
    : null;
  const route = parseRoute(location.pathname);

  // A stored token the server no longer knows (expired, revoked): back to signing in.
  useEffect(() => {
    if (hasSession && data && !user) {
      onSignedOut();
    }
  }, [hasSession, data, user, onSignedOut]);

  // "/" (and a view this role has no use for) opens the role's home.
  useEffect(() => {
    if (role && (route.name === "home" || !mayOpen(role, route.name))) {
      if (route.name !== "notFound") {
        navigate(staticPath(homeRoute(role)), { replace: true });
      }
    }
  }, [role?.role, role?.organizationKind, route.name]);

  async function handleSignOut() {
    await signOut({});
    onSignedOut();
    navigate("/", { replace: true });
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
  } else if (viewer && role) {
    content =
      route.name === "home" || (route.name !== "notFound" && !mayOpen(role, route.name)) ? (
        <p className="muted">Loading…</p>
      ) : (
        <ViewerProvider value={viewer}>
          <Routed route={route} />
        </ViewerProvider>
      );
  } else {
    content = <SignInPage onSignedIn={onSignedIn} />;
  }

  const nav = role ? navFor(role) : [];
  const current =
    route.name === "listing" ? "board" : route.name === "order" ? "myOrders" : route.name;
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
            {nav.map((item) => (
              <Link
                key={item.route}
                to={staticPath(item.route)}
                aria-current={current === item.route ? "page" : undefined}
              >
                {item.label}
              </Link>
            ))}
          </nav>
          <ConnectionIndicator status={live.status} />
          {viewer ? (
            <div className="account">
              <span className="account__who">
                {viewer.user.name}
                <span className="account__role">
                  {roleLabel(viewer.user.role)} · {viewer.organization.name}
                </span>
              </span>
              <button type="button" className="button button--quiet" onClick={handleSignOut}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      {viewer ? <OfflineBanner /> : null}
      <main id="main" tabIndex={-1}>
        {content}
      </main>
    </>
  );
}

/** Once the live connection has dropped, the page may be out of date until it is back: say so. */
function OfflineBanner() {
  const status = useConnectionStatus();
  const [dropped, setDropped] = useState(false);
  const [wasLive, setWasLive] = useState(false);
  if (status === "live" && (!wasLive || dropped)) {
    setWasLive(true);
    setDropped(false);
  } else if (status !== "live" && wasLive && !dropped) {
    setDropped(true);
  }
  if (!dropped) {
    return null;
  }
  return (
    <p className="banner" role="status" data-testid="offline-banner">
      The live connection is down and being retried: what you see may be out of date. It refreshes
      as soon as the connection is back.
    </p>
  );
}
