import { useState } from "react";
import { aclText, enc } from "../api.ts";
import { forgetDocuments, useDocument } from "../components/CitedDocument.tsx";
import { DocumentText, pageAt, resolveSpan } from "../components/DocumentText.tsx";
import { ErrorNote, formatDate, Loading, PageTitle } from "../components/common.tsx";
import { go, href } from "../route.ts";
import { useSession } from "../session.ts";

/** One document: its lineage, access list and extracted text, with a span highlighted when asked. */
export function DocumentPage({ kb, docId, start, end, pdfPage }: { kb: string; docId: string; start?: number; end?: number; pdfPage?: number }) {
  const { data: doc, error, loading } = useDocument(kb, docId);
  const span = doc ? resolveSpan(doc.text, start, end) : undefined;
  const page = pdfPage ?? (span ? pageAt(doc?.pages, span.start) : undefined);
  return (
    <>
      <p className="crumbs">
        <a href={href({ page: "kbs" })}>Knowledge bases</a> <span aria-hidden="true">/</span> <a href={href({ page: "kb", kb })}>{kb}</a>{" "}
        <span aria-hidden="true">/</span>
      </p>
      <PageTitle>{doc ? doc.title || doc.source : "Document"}</PageTitle>
      {loading && !doc ? <Loading what="the document" /> : null}
      {error ? <ErrorNote error={error} title="The document could not be opened" /> : null}
      {doc ? (
        <div className="doc-page">
          <dl className="meta">
            <dt>Source</dt>
            <dd className="break">{doc.source}</dd>
            <dt>Document id</dt>
            <dd>
              <code>{doc.docId}</code>
            </dd>
            <dt>Version</dt>
            <dd>
              {doc.version}
              {doc.ingestedAt ? `, ingested ${formatDate(doc.ingestedAt)}` : ""}
            </dd>
            {doc.mime ? (
              <>
                <dt>Type</dt>
                <dd>{doc.mime}</dd>
              </>
            ) : null}
            <dt>Content hash</dt>
            <dd className="break">
              <code>{doc.hash}</code>
            </dd>
            <dt>Access</dt>
            <dd>{aclText(doc.acl)}</dd>
            {doc.tags && doc.tags.length > 0 ? (
              <>
                <dt>Tags</dt>
                <dd>{doc.tags.join(", ")}</dd>
              </>
            ) : null}
            <dt>Length</dt>
            <dd>
              {doc.text.length.toLocaleString()} characters{doc.pages?.length ? `, ${doc.pages.length} pages` : ""}
            </dd>
            {span ? (
              <>
                <dt>Highlighted</dt>
                <dd>
                  characters {span.start}–{span.end}
                  {page !== undefined ? `, page ${page}` : ""}
                </dd>
              </>
            ) : null}
          </dl>
          <DocumentText text={doc.text} span={span} pages={doc.pages} inline={doc.mime === "text/markdown"} label={`Text of ${doc.title || doc.source}`} />
          <DeleteDocument kb={kb} docId={docId} title={doc.title || doc.source} />
        </div>
      ) : null}
    </>
  );
}

/** Deleting takes two presses (no blocking confirm dialog); only keys with the ingest scope see it. */
function DeleteDocument({ kb, docId, title }: { kb: string; docId: string; title: string }) {
  const { client, me } = useSession();
  const [armed, setArmed] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!me.scopes.includes("ingest") && !me.scopes.includes("admin")) return null;
  const remove = async (): Promise<void> => {
    try {
      await client.request(`/api/kbs/${enc(kb)}/documents/${enc(docId)}`, { method: "DELETE" });
      forgetDocuments();
      go({ page: "kb", kb });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="danger-zone">
      {armed ? (
        <div className="form-actions" role="group" aria-label="Confirm deletion">
          <span>Delete “{title}” from {kb}? This cannot be undone.</span>
          <button type="button" className="button danger" onClick={() => void remove()}>
            Delete it
          </button>
          <button type="button" className="button ghost" onClick={() => setArmed(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" className="button ghost danger" onClick={() => setArmed(true)}>
          Delete document…
        </button>
      )}
      {error ? <ErrorNote error={error} title="The document was not deleted" /> : null}
    </div>
  );
}
