// A report's headline figures as a definition list.
import { metricRows } from "./ReportApi.tsx";

export function ReportMetrics({ metrics }: { metrics: Record<string, number> }) {
  return (
    <dl className="report-metrics">
      {metricRows(metrics).map((m) => (
        <div key={m.key} className="report-metric">
          <dt>{m.label}</dt>
          <dd>{m.text}</dd>
        </div>
      ))}
    </dl>
  );
}
