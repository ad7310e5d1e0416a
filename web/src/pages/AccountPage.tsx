import { ErrorNote, formatDate, Loading, PageTitle } from "../components/common.tsx";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

/** Who the key belongs to and what it has used (GET /api/me, GET /api/usage). */
export function AccountPage() {
  const { client, me } = useSession();
  const usage = useLoad((signal) => client.request<unknown>("/api/usage", { signal }), [client]);
  return (
    <>
      <PageTitle>Account</PageTitle>
      <section className="panel" aria-labelledby="me-title">
        <h2 id="me-title">Signed in</h2>
        <dl className="meta">
          <dt>User</dt>
          <dd data-testid="me-user">{me.user}</dd>
          <dt>Groups</dt>
          <dd>{me.groups.length ? me.groups.join(", ") : "none"}</dd>
          <dt>Key scopes</dt>
          <dd>{me.scopes.join(", ") || "none"}</dd>
        </dl>
      </section>
      <section className="panel" aria-labelledby="usage-title">
        <h2 id="usage-title">Usage</h2>
        {usage.loading && usage.data === undefined ? <Loading what="usage" /> : null}
        {usage.error ? <ErrorNote error={usage.error} title="Usage could not be loaded" /> : null}
        {usage.data !== undefined ? isUsageRows(usage.data) ? <UsageTable rows={usage.data} /> : <Value value={usage.data} /> : null}
      </section>
    </>
  );
}

interface UsageRow {
  keyId: string;
  user: string;
  name: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  lastUsedAt: string | null;
}

function isUsageRows(v: unknown): v is UsageRow[] {
  return Array.isArray(v) && v.every((r) => typeof r === "object" && r !== null && typeof (r as UsageRow).keyId === "string" && typeof (r as UsageRow).requests === "number");
}

function UsageTable({ rows }: { rows: UsageRow[] }) {
  if (rows.length === 0) return <p className="muted">No requests yet.</p>;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Usage per key">
      <table className="data-table" data-testid="usage">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">User</th>
            <th scope="col">Requests</th>
            <th scope="col">Tokens in</th>
            <th scope="col">Tokens out</th>
            <th scope="col">Cost</th>
            <th scope="col">Last used</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.keyId}>
              <td>
                {r.name ? `${r.name} ` : ""}
                <code>{r.keyId}</code>
              </td>
              <td>{r.user}</td>
              <td>{r.requests.toLocaleString()}</td>
              <td>{r.inputTokens.toLocaleString()}</td>
              <td>{r.outputTokens.toLocaleString()}</td>
              <td>${r.costUsd.toFixed(4)}</td>
              <td>{r.lastUsedAt ? formatDate(r.lastUsedAt) : "never"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Any JSON as nested definition lists and tables: the usage report's shape is the server's to choose. */
function Value({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === "number") return <>{Number.isInteger(value) ? value.toLocaleString() : value.toFixed(4)}</>;
  if (typeof value !== "object") return <>{String(value)}</>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    const rows = value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v));
    if (rows.length === value.length) {
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      return (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Usage table">
          <table className="data-table">
            <thead>
              <tr>
                {cols.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  {cols.map((c) => (
                    <td key={c}>
                      <Value value={r[c]} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    return <>{value.map((v) => JSON.stringify(v)).join(", ")}</>;
  }
  return (
    <dl className="meta">
      {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
        <div key={k} className="meta-row">
          <dt>{k}</dt>
          <dd>
            <Value value={v} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
