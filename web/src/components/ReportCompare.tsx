// The compare view: pick another report of the same kind and see both side by side — every shared
// headline figure with its delta, and for reports with per-item figures (nDCG@10 per query, F1 per
// question) the paired bootstrap 95% interval of the mean delta and the items that changed most.
import { useState } from "react";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";
import { ErrorNote, Loading } from "./common.tsx";
import { compareReports, type PublishedReport, type ReportSummary } from "./ReportApi.tsx";

const fmt = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : "—");
const signed = (x: number, d = 4): string => (x > 0 ? `+${fmt(x, d)}` : fmt(x, d));

function Comparison({ a, b }: { a: string; b: string }) {
  const { client } = useSession();
  const c = useLoad((signal) => compareReports(client, a, b, signal), [client, a, b]);
  if (c.error) return <ErrorNote error={c.error} title="The reports could not be compared" />;
  if (!c.data) return <Loading what="the comparison" />;
  const { metrics, paired, changed } = c.data;
  return (
    <div data-testid="report-compare-result">
      {paired ? (
        <p className="small">
          Mean {paired.metric} per item: {fmt(paired.meanA)} → {fmt(paired.meanB)}, Δ <strong>{signed(paired.delta)}</strong>, 95% interval [{fmt(paired.low)}, {fmt(paired.high)}] over {paired.n} items in common
          {paired.low > 0 ? " — better" : paired.high < 0 ? " — worse" : " — no clear change"}.
        </p>
      ) : null}
      <div className="table-scroll">
        <table className="data-table">
          <caption className="small muted">Headline figures: this report (A) and the one picked (B)</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">A</th>
              <th scope="col">B</th>
              <th scope="col">Δ (B − A)</th>
            </tr>
          </thead>
          <tbody>
            {metrics.map((m) => (
              <tr key={m.metric}>
                <th scope="row">{m.metric}</th>
                <td>{fmt(m.a)}</td>
                <td>{fmt(m.b)}</td>
                <td>{signed(m.delta)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {changed.length > 0 ? (
        <>
          <h4>Items that changed most</h4>
          <ul className="small">
            {changed.map((i) => (
              <li key={i.id}>
                <code>{i.id}</code> {fmt(i.a, 3)} → {fmt(i.b, 3)} ({signed(i.delta, 3)})
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

export function ReportCompare({ report, reports }: { report: PublishedReport; reports: ReportSummary[] }) {
  const others = reports.filter((r): r is Extract<ReportSummary, { damaged: false }> => !r.damaged && r.id !== report.id && r.kind === report.kind);
  const [other, setOther] = useState("");
  if (others.length === 0) return null;
  return (
    <section className="report-compare" aria-labelledby="report-compare-title">
      <h3 id="report-compare-title">Compare</h3>
      <label className="small">
        Compare with{" "}
        <select value={other} onChange={(e) => setOther(e.target.value)} data-testid="report-compare-select">
          <option value="">choose a report…</option>
          {others.map((r) => (
            <option key={r.id} value={r.id}>
              {r.title} ({r.id})
            </option>
          ))}
        </select>
      </label>
      {other ? <Comparison key={other} a={report.id} b={other} /> : null}
    </section>
  );
}
