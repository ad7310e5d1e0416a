// One report: its heading, where it came from, its figures, its chart and its HTML page; admins may delete it.
import { useState } from "react";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";
import { ErrorNote, formatDate, Loading } from "./common.tsx";
import { deleteReport, getReport, type ReportSummary } from "./ReportApi.tsx";
import { ReportCompare } from "./ReportCompare.tsx";
import { ReportChart } from "./ReportChart.tsx";
import { ReportHtml } from "./ReportHtml.tsx";
import { ReportMetrics } from "./ReportMetrics.tsx";

export function ReportDetail({ id, onDeleted, reports = [] }: { id: string; onDeleted: () => void; reports?: ReportSummary[] }) {
  const { client, me } = useSession();
  const report = useLoad((signal) => getReport(client, id, signal), [client, id]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  if (report.error) return <ErrorNote error={report.error} title="The report could not be loaded" />;
  if (!report.data) return <Loading what="the report" />;
  const r = report.data;

  const remove = async (): Promise<void> => {
    if (!window.confirm(`Delete the report "${r.title}"? This cannot be undone.`)) return;
    setBusy(true);
    try {
      await deleteReport(client, r.id);
      onDeleted();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <article className="panel report-detail" aria-labelledby="report-title" data-testid="report-detail">
      <div className="panel-head">
        <h2 id="report-title">{r.title}</h2>
        {me.scopes.includes("admin") ? (
          <button type="button" className="button ghost small" disabled={busy} onClick={() => void remove()}>
            Delete
          </button>
        ) : null}
      </div>
      <p className="small muted">
        {r.dataset}
        {r.split ? ` · split ${r.split}` : ""} · {formatDate(r.createdAt)} · Strata {r.strataVersion}
      </p>
      {error ? <ErrorNote error={error} title="Not deleted" /> : null}
      <ReportMetrics metrics={r.metrics} />
      <ReportChart report={r} />
      <ReportCompare report={r} reports={reports} />
      {r.command ? (
        <p className="small">
          Made by <code className="break">{r.command}</code>
        </p>
      ) : null}
      {r.hasHtml ? <ReportHtml key={r.id} client={client} id={r.id} title={r.title} /> : null}
    </article>
  );
}
