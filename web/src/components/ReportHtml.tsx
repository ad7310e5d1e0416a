// A report's full HTML page inside this page: fetched with the key, shown in a sandboxed frame (no
// scripts, an origin of its own, so nothing in the file can act as the UI), and offered as a file.
import { useEffect, useState } from "react";
import type { Client } from "../api.ts";
import { ErrorNote } from "./common.tsx";
import { getReportHtml } from "./ReportApi.tsx";

export function ReportHtml({ client, id, title }: { client: Client; id: string; title: string }) {
  const [open, setOpen] = useState(false);
  const [html, setHtml] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [fileUrl, setFileUrl] = useState<string>();

  useEffect(() => {
    if (!open || html !== undefined) return;
    const ctrl = new AbortController();
    getReportHtml(client, id, ctrl.signal).then(setHtml, (e: unknown) => {
      if (!ctrl.signal.aborted) setError(e);
    });
    return () => ctrl.abort();
  }, [open, html, client, id]);

  useEffect(() => {
    if (html === undefined) return;
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    setFileUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [html]);

  return (
    <section className="report-html" aria-label="Full HTML report">
      <div className="report-actions">
        <button type="button" className="button" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? "Hide the full report" : "Open the full HTML report"}
        </button>
        {fileUrl ? (
          <a className="button" href={fileUrl} download={`strata-report-${id}.html`}>
            Download HTML
          </a>
        ) : null}
      </div>
      {open && error ? <ErrorNote error={error} title="The HTML report could not be loaded" /> : null}
      {open && !error && html === undefined ? <p className="muted" role="status">Loading the HTML report…</p> : null}
      {open && html !== undefined ? <iframe className="report-frame" title={`Full report: ${title}`} sandbox="" srcDoc={html} /> : null}
    </section>
  );
}
