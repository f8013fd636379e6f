// The strata dashboard: read-only pages over the distribution endpoint (docs/dashboard.md). Hash routes,
// so the server serves one page and every link is a plain link that works with the keyboard.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, UNREACHABLE, type SessionDocument as Session } from "./api.js";
import { LiveNote, useConnection, useTitle } from "./pages/common.js";
import { AuditEnvironmentPage, AuditPage } from "./pages/audit.js";
import { EnvironmentPage } from "./pages/environment.js";
import { EnvironmentsPage } from "./pages/environments.js";
import { FleetPage } from "./pages/fleet.js";
import { Safe } from "./text.js";

type Route =
  | { page: "environments" }
  | { page: "environment"; env: string; from: number | null; to: number | null }
  | { page: "fleet" }
  | { page: "audit" }
  | { page: "audit-environment"; env: string }
  | { page: "missing" };

function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  if (parts.length === 0) return { page: "environments" };
  if (parts[0] === "fleet" && parts.length === 1) return { page: "fleet" };
  if (parts[0] === "audit" && parts.length === 1) return { page: "audit" };
  if (parts[0] === "audit" && parts.length === 2) return { page: "audit-environment", env: parts[1]! };
  if (parts[0] === "env" && parts[1] !== undefined) {
    if (parts.length === 2) return { page: "environment", env: parts[1], from: null, to: null };
    if (parts.length === 5 && parts[2] === "diff")
      return { page: "environment", env: parts[1], from: Number(parts[3]), to: Number(parts[4]) };
  }
  return { page: "missing" };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

function Login({ failed }: { failed: boolean }) {
  useTitle("Sign in");
  return (
    <main id="main" class="login">
      <h1>Sign in to the strata dashboard</h1>
      <p>
        Paste a token created with <code>strata serve token create</code>. The dashboard only reads: a{" "}
        <code>read:</code> scope is enough, and you see the environments your token may read.
      </p>
      {failed && (
        <p role="alert" class="error">
          That token is not valid on this server.
        </p>
      )}
      <form method="post" action="/ui/login">
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" required spellcheck={false} />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

const PAGES = [
  { href: "#/", label: "Environments", page: "environments" },
  { href: "#/fleet", label: "Fleet", page: "fleet" },
  { href: "#/audit", label: "Audit", page: "audit" },
] as const;

function Layout({ session, route, children }: { session: Session; route: Route; children: preact.ComponentChildren }) {
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // A new page: move the keyboard focus to it, as a page load would (but not on the first render).
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [location.hash]);
  const current =
    route.page === "environment" ? "environments" : route.page === "audit-environment" ? "audit" : route.page;
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">strata</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.page}>
                <a href={p.href} aria-current={current === p.page ? "page" : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {session.auth ? (
            <form method="post" action="/ui/logout">
              <span>
                Token{" "}
                <strong>
                  <Safe text={session.token ?? ""} />
                </strong>
              </span>
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          ) : (
            <span>Open (loopback, no tokens)</span>
          )}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | "login">(null);
  const [error, setError] = useState<string | null>(null);
  const route = useRoute();
  // A first load that fails because the server is not there is retried when it is back (the generation).
  const { generation } = useConnection();
  useEffect(() => {
    api.session().then(
      (s) => {
        setSession(s);
        setError(null);
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setSession("login");
        else if (!(e instanceof ApiError && e.code === UNREACHABLE)) setError((e as Error).message);
      },
    );
  }, [generation]);
  if (error !== null)
    return (
      <main id="main">
        <h1>strata dashboard</h1>
        <p role="alert" class="error">
          {error}
        </p>
      </main>
    );
  if (session === null)
    return (
      <main id="main" class="loading">
        <h1>strata dashboard</h1>
        <LiveNote news={null} />
      </main>
    );
  if (session === "login") return <Login failed={new URLSearchParams(location.search).get("login") === "failed"} />;
  return (
    <Layout session={session} route={route}>
      {route.page === "environments" && <EnvironmentsPage />}
      {route.page === "environment" && (
        <EnvironmentPage key={route.env} env={route.env} from={route.from} to={route.to} />
      )}
      {route.page === "fleet" && <FleetPage />}
      {route.page === "audit" && <AuditPage />}
      {route.page === "audit-environment" && <AuditEnvironmentPage key={route.env} env={route.env} />}
      {route.page === "missing" && <NotFound />}
    </Layout>
  );
}

function NotFound() {
  useTitle("Not found");
  return (
    <>
      <h1>Not found</h1>
      <p>
        <a href="#/">Back to the environments</a>
      </p>
    </>
  );
}

// The static "Loading…" of index.html goes: preact renders into an empty element.
const root = document.getElementById("app")!;
root.replaceChildren();
render(<App />, root);
