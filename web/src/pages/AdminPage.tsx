// Users and API keys, for keys with the admin scope: add a user with groups, give them a key (shown
// once, here), revoke keys. Knowledge bases are created on the Knowledge bases page.
import { useId, useState, type FormEvent } from "react";
import { enc, splitList } from "../api.ts";
import { ErrorNote, formatDate, Loading, PageTitle } from "../components/common.tsx";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

interface User {
  name: string;
  groups: string[];
  createdAt: string;
}

interface Key {
  id: string;
  user: string;
  scopes: string[];
  name: string | null;
  origin: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const SCOPES = ["read", "ingest", "admin"] as const;

export function AdminPage() {
  const { client, me } = useSession();
  const users = useLoad((signal) => client.request<User[]>("/api/users", { signal }), [client]);
  const keys = useLoad((signal) => client.request<Key[]>("/api/keys", { signal }), [client]);
  if (!me.scopes.includes("admin")) {
    return (
      <>
        <PageTitle>Users and keys</PageTitle>
        <p className="note">Only a key with the admin scope manages users and keys.</p>
      </>
    );
  }
  return (
    <>
      <PageTitle sub="People, their groups (which documents they may read) and their API keys.">Users and keys</PageTitle>
      <div className="kb-grid">
        <CreateUser onDone={users.reload} />
        <CreateKey users={users.data ?? []} onDone={keys.reload} />
      </div>
      <section className="panel" aria-labelledby="users-title">
        <h2 id="users-title">Users{users.data ? ` (${users.data.length})` : ""}</h2>
        {users.error ? <ErrorNote error={users.error} title="Users could not be listed" /> : null}
        {users.loading && !users.data ? <Loading what="users" /> : null}
        {users.data ? (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Users">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Groups</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <tr key={u.name}>
                    <td>{u.name}</td>
                    <td>{u.groups.join(", ") || "—"}</td>
                    <td>{formatDate(u.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <KeyList keys={keys.data} error={keys.error} loading={keys.loading} onChanged={keys.reload} ownKeyId={me.keyId} />
    </>
  );
}

function CreateUser({ onDone }: { onDone: () => void }) {
  const { client } = useSession();
  const [name, setName] = useState("");
  const [groups, setGroups] = useState("");
  const [error, setError] = useState<unknown>();
  const [made, setMade] = useState<string | undefined>();
  const id = useId();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    setMade(undefined);
    try {
      const u = await client.request<User>("/api/users", { body: { name: name.trim(), groups: splitList(groups) } });
      setMade(u.name);
      setName("");
      setGroups("");
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-t`}>
      <h2 id={`${id}-t`}>Add a user</h2>
      <form onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor={`${id}-n`}>Name</label>
          <input id={`${id}-n`} value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-g`}>Groups</label>
          <input id={`${id}-g`} value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="research, staff" aria-describedby={`${id}-gh`} />
          <p id={`${id}-gh`} className="muted small">
            Comma-separated. Documents shared with a group are readable by its members.
          </p>
        </div>
        <button type="submit" className="button primary" disabled={!name.trim()}>
          Add user
        </button>
      </form>
      <div aria-live="polite">{made ? <p className="note note-ok">Added {made}. Give them a key next.</p> : null}</div>
      {error ? <ErrorNote error={error} title="The user was not added" /> : null}
    </section>
  );
}

function CreateKey({ users, onDone }: { users: User[]; onDone: () => void }) {
  const { client } = useSession();
  const [user, setUser] = useState("");
  const [label, setLabel] = useState("");
  const [scopes, setScopes] = useState<Set<string>>(new Set(["read"]));
  const [expires, setExpires] = useState("");
  const [secret, setSecret] = useState<{ user: string; key: string } | undefined>();
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>();
  const id = useId();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    setSecret(undefined);
    setCopied(false);
    try {
      const body: Record<string, unknown> = { user: user.trim(), scopes: SCOPES.filter((s) => scopes.has(s)) };
      if (label.trim()) body.name = label.trim();
      if (expires) body.expiresAt = new Date(`${expires}T23:59:59`).toISOString();
      const k = await client.request<Key & { key: string }>("/api/keys", { body });
      setSecret({ user: k.user, key: k.key });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-t`}>
      <h2 id={`${id}-t`}>Make an API key</h2>
      <form onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor={`${id}-u`}>For user</label>
          <input id={`${id}-u`} value={user} onChange={(e) => setUser(e.target.value)} list={`${id}-users`} required autoComplete="off" />
          <datalist id={`${id}-users`}>
            {users.map((u) => (
              <option key={u.name} value={u.name} />
            ))}
          </datalist>
        </div>
        <fieldset className="scopes">
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={scopes.has(s)}
                onChange={(e) => {
                  const next = new Set(scopes);
                  if (e.target.checked) next.add(s);
                  else next.delete(s);
                  setScopes(next);
                }}
              />{" "}
              {s}
            </label>
          ))}
        </fieldset>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${id}-l`}>Label (optional)</label>
            <input id={`${id}-l`} value={label} onChange={(e) => setLabel(e.target.value)} placeholder="laptop" />
          </div>
          <div className="field">
            <label htmlFor={`${id}-x`}>Expires (optional)</label>
            <input id={`${id}-x`} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </div>
        </div>
        <button type="submit" className="button primary" disabled={!user.trim() || scopes.size === 0}>
          Make key
        </button>
      </form>
      <div aria-live="polite">
        {secret ? (
          <div className="note note-ok secret">
            <p>
              <strong>The key for {secret.user}</strong> — copy it now; it is not shown again.
            </p>
            <p>
              <code data-testid="new-key">{secret.key}</code>
            </p>
            <button
              type="button"
              className="button small"
              onClick={() => {
                void navigator.clipboard?.writeText(secret.key).then(
                  () => setCopied(true),
                  () => setCopied(false),
                );
              }}
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
        ) : null}
      </div>
      {error ? <ErrorNote error={error} title="The key was not made" /> : null}
    </section>
  );
}

function KeyList({ keys, error, loading, onChanged, ownKeyId }: { keys: Key[] | undefined; error: unknown; loading: boolean; onChanged: () => void; ownKeyId: string | undefined }) {
  const { client } = useSession();
  const [failed, setFailed] = useState<unknown>();
  const revoke = async (k: Key): Promise<void> => {
    setFailed(undefined);
    try {
      await client.request(`/api/keys/${enc(k.id)}`, { method: "DELETE" });
      onChanged();
    } catch (e) {
      setFailed(e);
    }
  };
  return (
    <section className="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys{keys ? ` (${keys.length})` : ""}</h2>
      <p className="muted small">Only a hash of each key is stored; a lost key cannot be shown again — make a new one and revoke the old.</p>
      {error ? <ErrorNote error={error} title="Keys could not be listed" /> : null}
      {loading && !keys ? <Loading what="keys" /> : null}
      {failed ? <ErrorNote error={failed} title="The key was not revoked" /> : null}
      {keys ? (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="API keys">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">User</th>
                <th scope="col">Scopes</th>
                <th scope="col">Made</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <td>
                    {k.name ? `${k.name} ` : ""}
                    <code>{k.id}</code>
                  </td>
                  <td>{k.user}</td>
                  <td>{k.scopes.join(", ")}</td>
                  <td>{formatDate(k.createdAt)}</td>
                  <td>{k.expiresAt ? formatDate(k.expiresAt) : "never"}</td>
                  <td>
                    {k.revokedAt ? (
                      `revoked ${formatDate(k.revokedAt)}`
                    ) : k.id === ownKeyId ? (
                      "in use (this tab)"
                    ) : (
                      <button type="button" className="button ghost small danger" onClick={() => void revoke(k)} aria-label={`Revoke key ${k.name ?? k.id} of ${k.user}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
