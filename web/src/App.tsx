import { useCallback, useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { ApiError, Client, setUnauthorizedHandler, type Me } from "./api.ts";
import { forgetDocuments } from "./components/CitedDocument.tsx";
import { ErrorNote } from "./components/common.tsx";
import { AccountPage } from "./pages/AccountPage.tsx";
import { AdminPage } from "./pages/AdminPage.tsx";
import { AgentRunsPage } from "./pages/AgentRunsPage.tsx";
import { ChatPage } from "./pages/ChatPage.tsx";
import { DocumentPage } from "./pages/DocumentPage.tsx";
import { KbListPage } from "./pages/KbListPage.tsx";
import { KbPage } from "./pages/KbPage.tsx";
import { TrainingRunsPage } from "./pages/TrainingRunsPage.tsx";
import { EvalReportsPage } from "./pages/EvalReportsPage.tsx";
import { href, useRoute, type Route } from "./route.ts";
import { SessionContext, storedKey, storeKey, useSession, type Session } from "./session.ts";

type Auth = { state: "checking"; key: string } | { state: "out"; reason?: string } | { state: "in"; client: Client; me: Me };

export function App() {
  const [auth, setAuth] = useState<Auth>(() => {
    const key = storedKey();
    return key ? { state: "checking", key } : { state: "out" };
  });

  const signOut = useCallback((reason?: string) => {
    storeKey(undefined);
    forgetDocuments();
    setAuth(reason ? { state: "out", reason } : { state: "out" });
  }, []);

  // A key kept from earlier in this tab is checked again before the page trusts it.
  const checkingKey = auth.state === "checking" ? auth.key : undefined;
  useEffect(() => {
    if (checkingKey === undefined) return;
    const ctrl = new AbortController();
    const client = new Client(checkingKey);
    client.me(ctrl.signal).then(
      (me) => setAuth({ state: "in", client, me }),
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        storeKey(undefined);
        setAuth({ state: "out", reason: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => ctrl.abort();
  }, [checkingKey]);

  // Only a signed-in page is signed out by a 401 (a wrong key typed at sign-in is the form's to report).
  const signedIn = auth.state === "in";
  useEffect(() => {
    if (!signedIn) return;
    setUnauthorizedHandler(() => signOut("Your key is no longer accepted (expired or revoked). Sign in again."));
    return () => setUnauthorizedHandler(undefined);
  }, [signOut, signedIn]);

  const session = useMemo<Session | undefined>(() => (auth.state === "in" ? { client: auth.client, me: auth.me, signOut } : undefined), [auth, signOut]);

  if (auth.state === "checking") {
    return (
      <main className="signin" id="main">
        <p role="status">Checking your key…</p>
      </main>
    );
  }
  if (auth.state === "out" || !session) {
    return (
      <SignIn
        reason={auth.state === "out" ? auth.reason : undefined}
        onSignedIn={(client, me) => {
          storeKey(client.key);
          setAuth({ state: "in", client, me });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

function SignIn({ reason, onSignedIn }: { reason: string | undefined; onSignedIn: (c: Client, me: Me) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return;
    setBusy(true);
    setError(undefined);
    try {
      const client = new Client(k);
      const me = await client.me();
      onSignedIn(client, me);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new ApiError(401, err.code, "This key is not valid (wrong, expired or revoked).", err.hint) : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <p className="brand-big" aria-hidden="true">
          <Logo /> Strata
        </p>
        <h1>Sign in</h1>
        <p className="muted">Use an API key from your Strata admin. It stays in this browser tab only and is forgotten when the tab closes.</p>
        {reason ? (
          <p className="note" role="status">
            {reason}
          </p>
        ) : null}
        <form onSubmit={(e) => void submit(e)}>
          <div className="field">
            <label htmlFor={`${id}-key`}>API key</label>
            <input
              id={`${id}-key`}
              name="api-key"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              required
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${id}-err` : undefined}
            />
          </div>
          <button type="submit" className="button primary wide" disabled={busy || !key.trim()}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
        {error ? (
          <div id={`${id}-err`}>
            <ErrorNote error={error} title="Not signed in" />
          </div>
        ) : null}
      </div>
    </main>
  );
}

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" />
      <path d="M8 11h16M8 16h16M8 21h16" />
    </svg>
  );
}

const NAV: { label: string; route: Route; match: Route["page"][]; admin?: boolean }[] = [
  { label: "Chat", route: { page: "chat" }, match: ["chat"] },
  { label: "Knowledge bases", route: { page: "kbs" }, match: ["kbs", "kb", "doc"] },
  { label: "Agent runs", route: { page: "agents" }, match: ["agents"] },
  { label: "Training runs", route: { page: "training" }, match: ["training"] },
  { label: "Eval reports", route: { page: "reports" }, match: ["reports"] },
  { label: "Users and keys", route: { page: "admin" }, match: ["admin"], admin: true },
];

function Shell() {
  const route = useRoute();
  const session = useSession();
  useEffect(() => {
    const names: Record<Route["page"], string> = {
      chat: "Chat",
      kbs: "Knowledge bases",
      kb: "Knowledge base",
      doc: "Document",
      agents: "Agent runs",
      training: "Training runs",
      reports: "Eval reports",
      account: "Account",
      admin: "Users and keys",
      missing: "Not found",
    };
    document.title = `${names[route.page]} · Strata`;
  }, [route.page]);
  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById("main")?.focus();
      }}>
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href({ page: "chat" })}>
          <Logo /> <span>Strata</span>
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.admin || session.me.scopes.includes("admin")).map((n) => (
              <li key={n.label}>
                <a href={href(n.route)} aria-current={n.match.includes(route.page) ? "page" : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who-am-i">
          <a href={href({ page: "account" })} aria-current={route.page === "account" ? "page" : undefined} title="Account and usage">
            <span className="visually-hidden">Signed in as </span>
            <span data-testid="signed-in-user">{session.me.user}</span>
          </a>
          <button type="button" className="button ghost small" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} className={route.page === "chat" ? "main wide" : "main"}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "chat":
      return <ChatPage />;
    case "kbs":
      return <KbListPage />;
    case "kb":
      return <KbPage key={route.kb} kb={route.kb} />;
    case "doc":
      return <DocumentPage key={`${route.kb}/${route.docId}`} kb={route.kb} docId={route.docId} {...(route.start !== undefined ? { start: route.start } : {})} {...(route.end !== undefined ? { end: route.end } : {})} {...(route.pdfPage !== undefined ? { pdfPage: route.pdfPage } : {})} />;
    case "agents":
      return <AgentRunsPage />;
    case "training":
      return <TrainingRunsPage />;
    case "reports":
      return <EvalReportsPage />;
    case "account":
      return <AccountPage />;
    case "admin":
      return <AdminPage />;
    case "missing":
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no page <code>{route.path}</code>. <a href={href({ page: "chat" })}>Go to the chat</a>.
          </p>
        </>
      );
  }
}
