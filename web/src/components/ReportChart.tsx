// A published report's chart, drawn in SVG: for retrieval, nDCG@10 of every query sorted from best
// to worst (one bar per query; a 10-bin histogram when there are too many queries for bars to
// read); for a language model, the loss of each window in text order. Every chart has a text
// alternative: a summary the screen reader reads for the image, and the figures as a table.
import { useId } from "react";
import type { PublishedReport } from "./ReportApi.tsx";

/** Above this many queries a bar per query is thinner than a pixel on a phone: draw a histogram. */
const MAX_BARS = 200;
const W = 640;
const H = 240;
const PAD = { left: 40, right: 12, top: 12, bottom: 30 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

const fmt = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : "—");
const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Bar {
  label: string;
  value: number;
}

/** Horizontal grid lines with their values, for a y range lo..hi. */
function YAxis({ lo = 0, hi, ticks, digits }: { lo?: number; hi: number; ticks: number[]; digits: number }) {
  return (
    <g className="report-axis" aria-hidden="true">
      {ticks.map((t) => {
        const y = PAD.top + plotH - ((t - lo) / (hi - lo)) * plotH;
        return (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} className="report-grid" />
            <text x={PAD.left - 6} y={y + 4} textAnchor="end">
              {t.toFixed(digits)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function Bars({ bars, max, xLabel }: { bars: Bar[]; max: number; xLabel: string }) {
  const step = plotW / Math.max(1, bars.length);
  const gap = bars.length > 60 ? 0 : Math.min(4, step * 0.2);
  return (
    <>
      <g className="report-bars">
        {bars.map((b, i) => {
          const h = max > 0 ? (Math.max(0, b.value) / max) * plotH : 0;
          return (
            <rect key={i} className="report-bar" data-value={b.value} x={PAD.left + i * step + gap / 2} y={PAD.top + plotH - h} width={Math.max(0.5, step - gap)} height={h}>
              <title>{`${b.label}: ${fmt(b.value, Number.isInteger(b.value) ? 0 : 4)}`}</title>
            </rect>
          );
        })}
      </g>
      <text className="report-axis-label" x={PAD.left + plotW / 2} y={H - 8} textAnchor="middle" aria-hidden="true">
        {xLabel}
      </text>
    </>
  );
}

function histogram(values: number[]): Bar[] {
  const bins = Array.from({ length: 10 }, (_, i) => ({ label: `nDCG@10 ${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`, value: 0 }));
  for (const v of values) bins[Math.min(9, Math.max(0, Math.floor(v * 10)))]!.value++;
  return bins;
}

function RetrievalChart({ report }: { report: PublishedReport }) {
  const id = useId();
  const rows = [...(report.perQuery ?? [])].sort((a, b) => b.ndcg_at_10 - a.ndcg_at_10);
  const values = rows.map((r) => r.ndcg_at_10);
  if (rows.length === 0) return <p className="muted">This report has no per-query figures to chart.</p>;
  const asHistogram = rows.length > MAX_BARS;
  const bars = asHistogram ? histogram(values) : rows.map((r) => ({ label: `query ${r.id}`, value: r.ndcg_at_10 }));
  const max = asHistogram ? Math.max(1, ...bars.map((b) => b.value)) : 1;
  const zeros = values.filter((v) => v === 0).length;
  const perfect = values.filter((v) => v >= 1).length;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const title = asHistogram ? `How many of ${rows.length} queries reached each nDCG@10` : `nDCG@10 of each of ${rows.length} queries, best first`;
  const desc = `${rows.length} queries: mean nDCG@10 ${fmt(mean)}, median ${fmt(median(values))}; ${zeros} scored 0 and ${perfect} scored 1.`;
  return (
    <figure className="report-figure">
      <svg className="report-chart" data-testid="report-chart" data-kind="retrieval" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{desc}</desc>
        <YAxis hi={max} ticks={asHistogram ? [0, Math.round(max / 2), max] : [0, 0.25, 0.5, 0.75, 1]} digits={asHistogram ? 0 : 2} />
        <Bars bars={bars} max={max} xLabel={asHistogram ? "nDCG@10 (bins of 0.1)" : "queries, sorted by nDCG@10"} />
        {!asHistogram ? <line className="report-mean" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + plotH - mean * plotH} y2={PAD.top + plotH - mean * plotH} aria-hidden="true" /> : null}
      </svg>
      <figcaption>
        {title}. {desc} {!asHistogram ? "The dashed line is the mean." : null}
      </figcaption>
      <FiguresTable
        head={asHistogram ? ["nDCG@10", "Queries"] : ["Query", "nDCG@10"]}
        rows={asHistogram ? bars.map((b) => [b.label.replace("nDCG@10 ", ""), String(b.value)]) : rows.map((r) => [r.id, fmt(r.ndcg_at_10)])}
      />
    </figure>
  );
}

/** Function calling and agent tasks: the share answered right in each category, and every item below. */
function CategoryChart({ report }: { report: PublishedReport }) {
  const id = useId();
  const items = report.perItem ?? [];
  if (items.length === 0) return <p className="muted">This report has no per-item results to chart.</p>;
  const groups = new Map<string, { right: number; n: number }>();
  for (const i of items) {
    const g = groups.get(i.category ?? "all") ?? { right: 0, n: 0 };
    g.n++;
    if (i.correct) g.right++;
    groups.set(i.category ?? "all", g);
  }
  const bars = [...groups].map(([label, g]) => ({ label: `${label} (${g.right}/${g.n})`, value: g.right / g.n }));
  const right = items.filter((i) => i.correct).length;
  const title = `Share right in each of ${bars.length} ${bars.length === 1 ? "category" : "categories"}`;
  const desc = `${right} of ${items.length} ${report.kind === "tools" ? "questions called the right functions" : "tasks ended as their goal wanted"}; ${bars.map((b) => `${b.label}: ${fmt(b.value, 2)}`).join("; ")}.`;
  return (
    <figure className="report-figure">
      <svg className="report-chart" data-testid="report-chart" data-kind={report.kind} viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{desc}</desc>
        <YAxis hi={1} ticks={[0, 0.25, 0.5, 0.75, 1]} digits={2} />
        <Bars bars={bars} max={1} xLabel="categories" />
      </svg>
      <figcaption>
        {title}. {desc}
      </figcaption>
      <FiguresTable head={["Item", "Category", "Right"]} rows={items.map((i) => [i.id, i.category ?? "", i.correct ? "yes" : "no"])} />
    </figure>
  );
}

function WindowLossChart({ report }: { report: PublishedReport }) {
  const id = useId();
  const windows = report.windows ?? [];
  if (windows.length === 0) {
    return <p className="muted">This report has the totals only (models run by Strata's own engine do not report the loss of each window); its figures are above.</p>;
  }
  const losses = windows.map((w) => w.loss);
  // Zoom to the losses' own range (with a margin), so differences between windows are visible.
  const spread = Math.max(...losses) - Math.min(...losses) || 0.5;
  const lo = Math.max(0, Math.min(...losses) - spread * 0.25);
  const hi = Math.max(...losses) + spread * 0.25;
  const x = (i: number): number => PAD.left + (windows.length === 1 ? plotW / 2 : (i / (windows.length - 1)) * plotW);
  const y = (v: number): number => PAD.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const title = `Loss of each of ${windows.length} windows, in text order`;
  const desc = `Loss from ${fmt(Math.min(...losses), 3)} to ${fmt(Math.max(...losses), 3)} nats per token; overall ${fmt(report.metrics.loss ?? NaN, 3)}.`;
  return (
    <figure className="report-figure">
      <svg className="report-chart" data-testid="report-chart" data-kind="lm" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{desc}</desc>
        <YAxis lo={lo} hi={hi} ticks={[lo, (lo + hi) / 2, hi]} digits={2} />
        <polyline className="report-line" points={windows.map((w, i) => `${x(i)},${y(w.loss)}`).join(" ")} aria-hidden="true" />
        {windows.map((w, i) => (
          <circle key={w.index} className="report-point" cx={x(i)} cy={y(w.loss)} r={windows.length > 100 ? 1.5 : 3}>
            <title>{`window ${w.index + 1}: ${fmt(w.loss, 4)} nats/token over ${w.tokens} tokens`}</title>
          </circle>
        ))}
        <text className="report-axis-label" x={PAD.left + plotW / 2} y={H - 8} textAnchor="middle" aria-hidden="true">
          windows of the text
        </text>
      </svg>
      <figcaption>
        {title}. {desc}
      </figcaption>
      <FiguresTable head={["Window", "Tokens", "Loss"]} rows={windows.map((w) => [String(w.index + 1), String(w.tokens), fmt(w.loss)])} />
    </figure>
  );
}

/** The chart's figures as a table (the text alternative a screen reader or a copy-paste wants). */
function FiguresTable({ head, rows }: { head: string[]; rows: string[][] }) {
  return (
    <details className="report-data">
      <summary>The figures as a table</summary>
      <div className="report-table-wrap">
        <table>
          <thead>
            <tr>
              {head.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function ReportChart({ report }: { report: PublishedReport }) {
  // QA runs and comparisons draw their charts in their HTML page (shown below the figures).
  if (report.kind === "qa" || report.kind === "compare") return null;
  if (report.kind === "tools" || report.kind === "agents") return <CategoryChart report={report} />;
  return report.kind === "retrieval" ? <RetrievalChart report={report} /> : <WindowLossChart report={report} />;
}
