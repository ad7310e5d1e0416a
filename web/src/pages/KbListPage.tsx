import { useId, useState, type FormEvent } from "react";
import { membersText, splitList, type KbSummary } from "../api.ts";
import { ErrorNote, Loading, PageTitle } from "../components/common.tsx";
import { useLoad } from "../hooks.ts";
import { go, href } from "../route.ts";
import { useSession } from "../session.ts";

export function KbListPage() {
  const { client, me } = useSession();
  const kbs = useLoad((signal) => client.request<KbSummary[]>("/api/kbs", { signal }), [client]);
  const isAdmin = me.scopes.includes("admin");
  return (
    <>
      <PageTitle sub="The knowledge bases you may read. Open one to upload documents, search it and read its documents.">Knowledge bases</PageTitle>
      {kbs.error ? <ErrorNote error={kbs.error} title="Knowledge bases could not be listed" /> : null}
      {kbs.loading && !kbs.data ? <Loading what="knowledge bases" /> : null}
      {kbs.data && kbs.data.length === 0 ? <p className="note">There is no knowledge base you may read yet.{isAdmin ? " Create one below." : " Ask an admin to add you to one."}</p> : null}
      {kbs.data && kbs.data.length > 0 ? (
        <ul className="cards" aria-label="Knowledge bases">
          {kbs.data.map((k) => (
            <li key={k.name} className="card">
              <h2>
                <a href={href({ page: "kb", kb: k.name })}>{k.name}</a>
              </h2>
              <p className="muted small">
                {k.documents} {k.documents === 1 ? "document" : "documents"} · {k.chunks} {k.chunks === 1 ? "chunk" : "chunks"}
              </p>
              <p className="small">Members: {membersText(k.members)}</p>
            </li>
          ))}
        </ul>
      ) : null}
      {isAdmin ? <CreateKb onCreated={(name) => go({ page: "kb", kb: name })} /> : null}
    </>
  );
}

function CreateKb({ onCreated }: { onCreated: (name: string) => void }) {
  const { client } = useSession();
  const [name, setName] = useState("");
  const [users, setUsers] = useState("");
  const [groups, setGroups] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await client.request("/api/kbs", { body: { name: name.trim(), members: { users: splitList(users), groups: splitList(groups) } } });
      onCreated(name.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-t`}>
      <h2 id={`${id}-t`}>Create a knowledge base</h2>
      <form onSubmit={(e) => void submit(e)} className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-users`}>Member users</label>
          <input id={`${id}-users`} value={users} onChange={(e) => setUsers(e.target.value)} placeholder="alice, bob" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-groups`}>Member groups</label>
          <input id={`${id}-groups`} value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="staff" />
        </div>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={busy || !name.trim()}>
            {busy ? "Creating…" : "Create"}
          </button>
        </div>
      </form>
      {error ? <ErrorNote error={error} title="The knowledge base was not created" /> : null}
    </section>
  );
}
