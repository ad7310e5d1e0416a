import { useId, useRef, useState, type DragEvent, type FormEvent } from "react";
import { flushSync } from "react-dom";
import { aclText, ApiError, enc, splitList, type DocumentSummary, type IngestDone, type IngestProgress, type KbSummary, type SearchResult } from "../api.ts";
import { forgetDocuments } from "../components/CitedDocument.tsx";
import { ErrorNote, formatDate, Loading, PageTitle } from "../components/common.tsx";
import { useLoad } from "../hooks.ts";
import { href } from "../route.ts";
import { useSession } from "../session.ts";

export function KbPage({ kb }: { kb: string }) {
  const { client, me } = useSession();
  const docs = useLoad((signal) => client.request<DocumentSummary[]>(`/api/kbs/${enc(kb)}/documents`, { signal }), [client, kb]);
  const canIngest = me.scopes.includes("ingest") || me.scopes.includes("admin");
  return (
    <>
      <p className="crumbs">
        <a href={href({ page: "kbs" })}>Knowledge bases</a> <span aria-hidden="true">/</span>
      </p>
      <PageTitle>{kb}</PageTitle>
      <div className="kb-grid">
        {canIngest ? <Upload kb={kb} onDone={docs.reload} /> : null}
        <Search kb={kb} />
      </div>
      <section className="panel" aria-labelledby="docs-title">
        <div className="panel-head">
          <h2 id="docs-title">Documents{docs.data ? ` (${docs.data.length})` : ""}</h2>
          <button type="button" className="button ghost" onClick={docs.reload}>
            Refresh
          </button>
        </div>
        {docs.error ? <ErrorNote error={docs.error} title="Documents could not be listed" /> : null}
        {docs.loading && !docs.data ? <Loading what="documents" /> : null}
        {docs.data && docs.data.length === 0 ? <p className="muted">No document you may read is in this knowledge base yet.</p> : null}
        {docs.data && docs.data.length > 0 ? <DocumentTable kb={kb} docs={docs.data} /> : null}
      </section>
      {me.scopes.includes("admin") && !docs.error ? <Members kb={kb} /> : null}
    </>
  );
}

/** Who may use the knowledge base (admins only): member users and groups, replaced as a whole. */
function Members({ kb }: { kb: string }) {
  const { client } = useSession();
  const info = useLoad(async (signal) => (await client.request<KbSummary[]>("/api/kbs", { signal })).find((k) => k.name === kb), [client, kb]);
  const [users, setUsers] = useState<string | undefined>();
  const [groups, setGroups] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>();
  const id = useId();
  const current = info.data?.members;
  const cur = current && !Array.isArray(current) ? current : { users: [], groups: [] };
  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    setError(undefined);
    try {
      await client.request(`/api/kbs/${enc(kb)}/members`, { method: "PUT", body: { users: splitList(users ?? cur.users.join(", ")), groups: splitList(groups ?? cur.groups.join(", ")) } });
      setSaved(true);
      info.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-t`}>
      <h2 id={`${id}-t`}>Members</h2>
      <p className="muted small">Who may use {kb}. Each document's own access list still decides who reads it.</p>
      {info.data ? (
        <form onSubmit={(e) => void save(e)} className="form-grid">
          <div className="field">
            <label htmlFor={`${id}-u`}>Member users</label>
            <input id={`${id}-u`} value={users ?? cur.users.join(", ")} onChange={(e) => setUsers(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-g`}>Member groups</label>
            <input id={`${id}-g`} value={groups ?? cur.groups.join(", ")} onChange={(e) => setGroups(e.target.value)} />
          </div>
          <div className="form-actions full">
            <button type="submit" className="button">
              Save members
            </button>
            <span aria-live="polite">{saved ? "Saved." : ""}</span>
          </div>
        </form>
      ) : null}
      {error ? <ErrorNote error={error} title="Members were not saved" /> : null}
    </section>
  );
}

function DocumentTable({ kb, docs }: { kb: string; docs: DocumentSummary[] }) {
  return (
    <table className="doc-table" data-testid="documents">
      <thead>
        <tr>
          <th scope="col">Title</th>
          <th scope="col">Source</th>
          <th scope="col">Type</th>
          <th scope="col">Version</th>
          <th scope="col">Ingested</th>
          <th scope="col">Access</th>
          <th scope="col">Tags</th>
        </tr>
      </thead>
      <tbody>
        {docs.map((d) => (
          <tr key={d.docId} data-doc-id={d.docId}>
            <td data-label="Title">
              <a href={href({ page: "doc", kb, docId: d.docId })}>{d.title || d.source}</a>
            </td>
            <td data-label="Source" className="break">
              {d.source}
            </td>
            <td data-label="Type">{d.mime}</td>
            <td data-label="Version">{d.version}</td>
            <td data-label="Ingested">{formatDate(d.ingestedAt)}</td>
            <td data-label="Access">{aclText(d.acl)}</td>
            <td data-label="Tags">{d.tags.length ? d.tags.join(", ") : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type UploadState =
  | { phase: "idle" }
  | { phase: "uploading"; progress?: IngestProgress }
  | { phase: "done"; result: IngestDone }
  | { phase: "error"; error: unknown };

function fileKey(f: File): string {
  return `${f.name}\u0000${f.size}\u0000${f.lastModified}`;
}

/** Drag-and-drop upload with a file-picker fallback; ingest progress comes live from the SSE stream. */
function Upload({ kb, onDone }: { kb: string; onDone: () => void }) {
  const { client } = useSession();
  const [files, setFiles] = useState<File[]>([]);
  const [over, setOver] = useState(false);
  const [aclUsers, setAclUsers] = useState("");
  const [aclGroups, setAclGroups] = useState("");
  const [tags, setTags] = useState("");
  const [state, setState] = useState<UploadState>({ phase: "idle" });
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();

  const add = (list: FileList | File[] | null): void => {
    if (!list) return;
    const incoming = Array.from(list);
    setFiles((fs) => {
      const seen = new Set(fs.map(fileKey));
      return [...fs, ...incoming.filter((f) => !seen.has(fileKey(f)))];
    });
    if (state.phase !== "uploading") setState({ phase: "idle" });
  };

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setOver(false);
    add(e.dataTransfer.files);
  };

  const upload = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (files.length === 0) return;
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    if (aclUsers.trim()) form.append("acl_users", splitList(aclUsers).join(","));
    if (aclGroups.trim()) form.append("acl_groups", splitList(aclGroups).join(","));
    if (tags.trim()) form.append("tags", splitList(tags).join(","));
    setState({ phase: "uploading", progress: { done: 0, total: files.length } });
    try {
      let result: IngestDone | undefined;
      await client.stream(`/api/kbs/${enc(kb)}/documents`, form, (event, data) => {
        // Each file's progress is drawn as it arrives, even when several events come in one read.
        if (event === "progress") flushSync(() => setState({ phase: "uploading", progress: data as IngestProgress }));
        else if (event === "done" || event === "fallback") result = data as IngestDone;
        else if (event === "error") {
          const d = data as { code?: string; message?: string; hint?: string };
          throw new ApiError(500, d.code ?? "ERROR", d.message ?? "the upload failed", d.hint);
        }
      });
      if (!result) throw new Error("the server closed the stream before the ingest finished");
      setState({ phase: "done", result });
      setFiles([]);
      forgetDocuments();
      onDone();
    } catch (err) {
      setState({ phase: "error", error: err });
    }
  };

  const busy = state.phase === "uploading";
  const p = state.phase === "uploading" ? state.progress : undefined;
  return (
    <section className="panel" aria-labelledby={`${id}-t`}>
      <h2 id={`${id}-t`}>Add documents</h2>
      <form onSubmit={(e) => void upload(e)}>
        <div
          className={`dropzone${over ? " over" : ""}`}
          data-testid="dropzone"
          onDragEnter={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = "copy";
          }}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
          }}
          onDrop={onDrop}
        >
          <p>
            <strong>Drop files here</strong>
            <span className="muted"> — Markdown, text, HTML, PDF, DOCX…</span>
          </p>
          <p>
            <input
              ref={inputRef}
              id={`${id}-file`}
              type="file"
              multiple
              className="visually-hidden file-input"
              data-testid="file-input"
              onChange={(e) => {
                add(e.target.files);
                e.target.value = "";
              }}
            />
            <label htmlFor={`${id}-file`} className="button">
              or choose files…
            </label>
          </p>
        </div>
        {files.length > 0 ? (
          <ul className="staged" aria-label="Files to upload">
            {files.map((f) => (
              <li key={fileKey(f)}>
                <span className="break">{f.name}</span> <span className="muted small">{formatSize(f.size)}</span>
                <button type="button" className="button ghost small" onClick={() => setFiles((fs) => fs.filter((x) => x !== f))} aria-label={`Remove ${f.name}`} disabled={busy}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        <fieldset className="form-grid">
          <legend>Who may read them</legend>
          <div className="field">
            <label htmlFor={`${id}-u`}>Users</label>
            <input id={`${id}-u`} value={aclUsers} onChange={(e) => setAclUsers(e.target.value)} placeholder="alice, bob" aria-describedby={`${id}-acl-h`} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-g`}>Groups</label>
            <input id={`${id}-g`} value={aclGroups} onChange={(e) => setAclGroups(e.target.value)} placeholder="staff" aria-describedby={`${id}-acl-h`} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-tags`}>Tags</label>
            <input id={`${id}-tags`} value={tags} onChange={(e) => setTags(e.target.value)} placeholder="handbook" />
          </div>
          <p id={`${id}-acl-h`} className="muted small full">
            Comma-separated. Leave users and groups empty to let every member of {kb} read them.
          </p>
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={busy || files.length === 0}>
            {busy ? "Uploading…" : files.length > 1 ? `Upload ${files.length} files` : "Upload"}
          </button>
        </div>
      </form>
      <div className="upload-status" aria-live="polite" data-testid="upload-status">
        {busy ? (
          <div className="progress-block">
            <label htmlFor={`${id}-p`}>
              Ingesting {p ? `${p.done} of ${p.total}` : ""}
              {p?.item ? `: ${p.item}` : ""}
            </label>
            <progress id={`${id}-p`} max={p?.total || 1} value={p?.done ?? 0} />
          </div>
        ) : null}
        {state.phase === "done" ? <IngestSummary result={state.result} /> : null}
      </div>
      {state.phase === "error" ? <ErrorNote error={state.error} title="The upload failed" /> : null}
    </section>
  );
}

function IngestSummary({ result: r }: { result: IngestDone }) {
  return (
    <div className={`note ${r.failed.length ? "note-warn" : "note-ok"}`} data-testid="ingest-done">
      <p>
        Done: {r.added} added, {r.updated} updated, {r.unchanged} unchanged, {r.removed} removed
        {r.failed.length ? `, ${r.failed.length} failed` : ""}.
      </p>
      {r.failed.length ? (
        <ul>
          {r.failed.map((f, i) => (
            <li key={i}>
              <strong>{f.source ?? f.item ?? "a file"}</strong>: {f.message ?? f.error ?? f.code ?? "failed"}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function Search({ kb }: { kb: string }) {
  const { client } = useSession();
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState("");
  const [results, setResults] = useState<SearchResult[] | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!query.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      const body: Record<string, unknown> = { query: query.trim(), k: 10 };
      if (mode) body.mode = mode;
      const r = await client.request<{ results: SearchResult[] }>(`/api/kbs/${enc(kb)}/search`, { body });
      setResults(r.results);
    } catch (err) {
      setError(err);
      setResults(undefined);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-t`}>
      <h2 id={`${id}-t`}>Search</h2>
      <form role="search" onSubmit={(e) => void submit(e)} className="search-form">
        <div className="field grow">
          <label htmlFor={`${id}-q`}>Search {kb}</label>
          <input id={`${id}-q`} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-m`}>Mode</label>
          <select id={`${id}-m`} value={mode} onChange={(e) => setMode(e.target.value)}>
            <option value="">default</option>
            <option value="lexical">lexical</option>
            <option value="dense">dense</option>
            <option value="hybrid">hybrid</option>
          </select>
        </div>
        <button type="submit" className="button primary" disabled={busy || !query.trim()}>
          Search
        </button>
      </form>
      {error ? <ErrorNote error={error} title="Search failed" /> : null}
      <div aria-live="polite" data-testid="search-results">
        {results ? (
          results.length === 0 ? (
            <p className="muted">No passage you may read matches.</p>
          ) : (
            <ol className="results">
              {results.map((r) => (
                <li key={r.chunkId}>
                  <a href={href({ page: "doc", kb, docId: r.docId, start: r.start, end: r.end, ...(r.page != null ? { pdfPage: r.page } : {}) })}>{r.title || r.source}</a>
                  <span className="muted small">
                    {r.headingPath.length ? ` · ${r.headingPath.join(" › ")}` : ""}
                    {r.page != null ? ` · page ${r.page}` : ""} · score {r.score.toFixed(2)}
                  </span>
                  <p className="snippet">{r.text.length > 280 ? `${r.text.slice(0, 280)}…` : r.text}</p>
                </li>
              ))}
            </ol>
          )
        ) : null}
      </div>
    </section>
  );
}
