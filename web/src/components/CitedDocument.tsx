import { useEffect, useRef } from "react";
import { aclText, enc, type Citation, type DocumentFull } from "../api.ts";
import { useLoad } from "../hooks.ts";
import { href } from "../route.ts";
import { useSession } from "../session.ts";
import { DocumentText, pageAt, resolveSpan } from "./DocumentText.tsx";
import { ErrorNote, Loading } from "./common.tsx";

const cache = new Map<string, DocumentFull>();

/** A document as the signed-in user may read it (cached for the page's life, per key). */
export function useDocument(kb: string, docId: string) {
  const { client } = useSession();
  const cacheKey = `${client.key}\u0000${kb}\u0000${docId}`;
  return useLoad(async (signal) => {
    const hit = cache.get(cacheKey);
    if (hit) return hit;
    const doc = await client.request<DocumentFull>(`/api/kbs/${enc(kb)}/documents/${enc(docId)}`, { signal });
    cache.set(cacheKey, doc);
    return doc;
  }, [cacheKey]);
}

export function forgetDocuments(): void {
  cache.clear();
}

/** The source a citation chip opened, beside the chat: its text with the cited span highlighted. */
export function CitedDocument({ kb, citation, onClose }: { kb: string; citation: Citation; onClose: () => void }) {
  const { data: doc, error, loading } = useDocument(kb, citation.docId);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    headingRef.current?.focus({ preventScroll: true });
  }, [citation]);
  const span = doc ? resolveSpan(doc.text, citation.start, citation.end, citation.quote) : undefined;
  const page = citation.page ?? (span ? pageAt(doc?.pages, span.start) : undefined);
  return (
    <aside
      className="doc-pane"
      aria-labelledby="doc-pane-title"
      data-testid="cited-document"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="doc-pane-head">
        <div>
          <p className="eyebrow">Source {citation.n}</p>
          <h2 id="doc-pane-title" tabIndex={-1} ref={headingRef}>
            {doc?.title || citation.title || citation.source}
          </h2>
        </div>
        <button type="button" className="button ghost" onClick={onClose} aria-label="Close the cited document">
          Close
        </button>
      </header>
      <dl className="meta">
        {page != null ? (
          <>
            <dt>Page</dt>
            <dd data-testid="cited-page">{page}</dd>
          </>
        ) : null}
        <dt>Source</dt>
        <dd className="break">{citation.source}</dd>
        {doc ? (
          <>
            <dt>Version</dt>
            <dd>{doc.version}</dd>
            <dt>Access</dt>
            <dd>{aclText(doc.acl)}</dd>
          </>
        ) : null}
        <dt>Characters</dt>
        <dd>
          {citation.start}–{citation.end}
        </dd>
      </dl>
      {loading && !doc ? <Loading what="the document" /> : null}
      {error ? <ErrorNote error={error} title="The document could not be opened" /> : null}
      {span?.match === "moved" ? (
        <p className="note" role="status">
          The document changed since this answer; the quote was found at characters {span.start}–{span.end}.
        </p>
      ) : null}
      {span?.match === "changed" ? (
        <p className="note note-warn" role="status">
          The document changed since this answer and no longer contains the quoted text. The highlight shows the old position.
        </p>
      ) : null}
      {doc ? (
        <>
          <DocumentText text={doc.text} span={span} pages={doc.pages} inline={doc.mime === "text/markdown"} label={`Text of ${doc.title || doc.source}`} />
          <p className="pane-foot">
            <a href={href({ page: "doc", kb, docId: citation.docId, start: citation.start, end: citation.end, ...(page != null ? { pdfPage: page } : {}) })}>
              Open in the knowledge base
            </a>
          </p>
        </>
      ) : null}
    </aside>
  );
}
