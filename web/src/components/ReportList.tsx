// The published reports, newest first: each a button that opens it; a damaged one says why instead.
import { formatDate } from "./common.tsx";
import { headline, KIND_LABEL, type ReportSummary } from "./ReportApi.tsx";

export function ReportList({ reports, selected, onSelect }: { reports: ReportSummary[]; selected: string | undefined; onSelect: (id: string) => void }) {
  return (
    <ul className="report-list" aria-label="Published reports">
      {reports.map((r) =>
        r.damaged ? (
          <li key={r.id} className="report-item damaged" data-testid="report-damaged">
            <p className="report-item-title">
              <span className="badge">damaged</span> {r.id}
            </p>
            <p className="small error-text">{r.error}</p>
          </li>
        ) : (
          <li key={r.id} className="report-item">
            <button type="button" className="report-pick" aria-pressed={selected === r.id} onClick={() => onSelect(r.id)} data-report-id={r.id}>
              <span className="report-item-title">
                <span className="badge">{KIND_LABEL[r.kind] ?? r.kind}</span> {r.title}
              </span>
              <span className="small muted">
                {r.dataset}
                {r.split ? ` · ${r.split}` : ""} · {formatDate(r.createdAt)}
              </span>
              <span className="report-headline">{headline(r)}</span>
            </button>
          </li>
        ),
      )}
    </ul>
  );
}
