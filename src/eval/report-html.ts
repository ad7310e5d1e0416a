// One self-contained HTML page for a retrieval evaluation: headline figures, nDCG@10 per query as an
// inline SVG bar chart, histograms of nDCG@10 and of the first relevant rank, and a sortable table of
// the worst queries.
// No external assets (no CDN, fonts, images or frameworks): inline CSS, inline SVG and a ~30-line
// inline script for click-to-sort, so the file can be mailed, attached to CI runs or opened offline.
// Every piece of data is HTML-escaped: query texts and ids come from data files.

import { mean, percentile } from "./metrics.js";
import type { RetrievalEvalResult, RetrievalQueryResult } from "./retrieval.js";
import { escapeHtml, htmlPage } from "../core/html.js";

export interface RetrievalReportMeta {
  /** Page title and heading; default "Retrieval evaluation: <dataset> (<split>)". */
  title?: string;
  /** The command that produced the result, shown verbatim. */
  command?: string;
  /** The machine it ran on, e.g. "2-core x86_64, Node 20.20". */
  machine?: string;
  /** When it ran (ISO 8601 or any display text); omitted when absent so the page is deterministic. */
  generatedAt?: string;
}

/** Rows in the worst-queries table. */
const WORST_ROWS = 50;
/** Ids shown per cell before "+N more". */
const IDS_SHOWN = 10;

export { escapeHtml };

const esc = escapeHtml;

function f4(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : "—";
}
function f2(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : "—";
}
function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "—";
}
/** Coordinates in SVG attributes: short and locale-free. */
function n(x: number): string {
  return String(Math.round(x * 100) / 100);
}
function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
/** 0..1 as a percentage width, clamped. */
function meterWidth(x: number): string {
  return `${Number.isFinite(x) ? Math.max(0, Math.min(100, x * 100)).toFixed(1) : "0"}%`;
}

export const CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#17181c;--muted:#585b66;--card:#fff;--border:#d9dbe2;--grid:#e7e8ed;
--accent:#2b64d3;--accent-soft:#dbe6fb;--bad:#c23a2c;--bad-soft:rgba(194,58,44,.09);--hit:#1d7a46;--hit-soft:#d9f2e3;--code:#eef0f4}
@media (prefers-color-scheme:dark){:root{--bg:#101115;--fg:#ebecf0;--muted:#a4a7b3;--card:#191a20;--border:#30323b;--grid:#272932;
--accent:#7aa2ff;--accent-soft:#22304f;--bad:#ff7f73;--bad-soft:rgba(255,127,115,.12);--hit:#6fd69b;--hit-soft:#173826;--code:#23252d}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif}
body{margin:0 auto;max-width:1200px;padding:28px 24px 48px}
h1{font-size:1.6rem;line-height:1.25;margin:.1rem 0 .35rem}
h2{font-size:1.15rem;margin:0 0 .3rem}
p{margin:.25rem 0}
a{color:var(--accent)}
code,.ids{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:.75rem;color:var(--muted);margin:0;font-weight:600}
.sub,.note,.muted{color:var(--muted)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:.8rem 0 0;font-size:.9rem}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
dl.meta code{background:var(--code);padding:1px 5px;border-radius:4px}
section{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:18px 20px;margin-top:18px}
section.plain{background:none;border:0;padding:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-top:18px}
.card{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:14px 16px}
.card .label{font-size:.85rem;color:var(--muted);font-weight:600}
.card .value{font-size:2.3rem;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums;letter-spacing:-.01em}
.card .unit{font-size:.95rem;font-weight:500;color:var(--muted);margin-left:4px}
.card.primary .value{color:var(--accent)}
.card.warn .value{color:var(--bad)}
.meter{height:6px;border-radius:3px;background:var(--grid);margin-top:8px;overflow:hidden}
.meter span{display:block;height:100%;background:var(--accent)}
.story{margin-top:14px;font-size:1rem}
figure{margin:10px 0 0}
svg{display:block;width:100%;height:auto}
svg text{fill:var(--muted);font:12px system-ui,sans-serif}
svg .gridline{stroke:var(--grid);stroke-width:1}
svg .axis{stroke:var(--border);stroke-width:1}
svg .bar,svg .hbar{fill:var(--accent)}
svg .bar.zero,svg .hbar.zero{fill:var(--bad)}
svg .bar:hover,svg .hbar:hover{opacity:.7}
svg .zone{fill:var(--bad-soft)}
svg .zone-label{fill:var(--bad);font-weight:600;font-size:13px}
svg .zone-label,svg .mean-label{paint-order:stroke;stroke:var(--card);stroke-width:4px;stroke-linejoin:round}
svg .meanline{stroke:var(--fg);stroke-width:1.2;stroke-dasharray:5 4;opacity:.65}
svg .mean-label{fill:var(--fg);font-weight:600}
svg .count{fill:var(--fg);font-weight:600}
.two{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px;margin-top:18px}
@media (max-width:860px){.two{grid-template-columns:1fr}}
.two section{margin-top:0}
.table-wrap{overflow-x:auto;margin-top:10px;border:1px solid var(--border);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.88rem}
caption{text-align:left;padding:8px 10px;color:var(--muted)}
th,td{padding:7px 10px;text-align:left;vertical-align:top;border-top:1px solid var(--border)}
thead th{position:sticky;top:0;background:var(--card);border-top:0;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.q{min-width:220px;max-width:380px}
td.ids{min-width:140px;max-width:260px;overflow-wrap:anywhere}
tbody tr:nth-child(even){background:color-mix(in srgb,var(--grid) 35%,transparent)}
th button{all:unset;cursor:pointer;font-weight:700;border-radius:4px;padding:1px 3px}
th button::after{content:"\\2195";opacity:.35;margin-left:4px;font-size:.85em}
th[aria-sort=ascending] button::after{content:"\\25B2";opacity:.9}
th[aria-sort=descending] button::after{content:"\\25BC";opacity:.9}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.hit{background:var(--hit-soft);color:var(--hit);border-radius:3px;padding:0 3px;font-weight:700}
.none{color:var(--bad);font-weight:600}
.more{color:var(--muted);font-style:italic}
.z{color:var(--bad);font-weight:700}
footer{margin-top:24px;color:var(--muted);font-size:.85rem}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media print{html{background:#fff}section,.card{break-inside:avoid}}
`;

// Click-to-sort for tables with class "sortable": each sortable <th> holds a <button>; cells carry
// their sort key in data-v; numeric columns have data-type="num". No data is ever interpolated here.
export const SORT_SCRIPT = `
(function(){
  document.querySelectorAll("table.sortable").forEach(function(t){
    var heads = Array.prototype.slice.call(t.tHead.rows[0].cells);
    heads.forEach(function(th, col){
      var b = th.querySelector("button");
      if (!b) return;
      b.addEventListener("click", function(){
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function(h){ if (h.querySelector("button")) h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var num = th.getAttribute("data-type") === "num";
        var body = t.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(r1, r2){
          var x = r1.cells[col].getAttribute("data-v") || "", y = r2.cells[col].getAttribute("data-v") || "";
          var c = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, undefined, {numeric: true});
          return asc ? c : -c;
        });
        rows.forEach(function(r){ body.appendChild(r); });
      });
    });
  });
})();
`;

/** The per-query bar chart: one <rect class="bar"> per query, sorted by nDCG@10, best first. */
function barChart(rows: RetrievalQueryResult[], meanNdcg: number): string {
  const sorted = [...rows].sort((a, b) => b.ndcg_at_10 - a.ndcg_at_10 || a.id.localeCompare(b.id));
  const W = 960;
  const H = 270;
  const L = 44;
  const R = 12;
  const T = 14;
  const B = 34;
  const pw = W - L - R;
  const ph = H - T - B;
  const count = sorted.length;
  const bw = pw / Math.max(1, count);
  const gap = bw >= 4 ? Math.min(2, bw * 0.2) : 0;
  const y = (v: number): number => T + ph * (1 - v);
  const zeros = sorted.filter((r) => r.ndcg_at_10 === 0).length;

  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line class="gridline" x1="${L}" x2="${W - R}" y1="${n(y(t))}" y2="${n(y(t))}"/>`);
    parts.push(`<text x="${L - 6}" y="${n(y(t) + 4)}" text-anchor="end">${t.toFixed(2)}</text>`);
  }
  if (zeros > 0) {
    const zx = L + (count - zeros) * bw;
    parts.push(`<rect class="zone" x="${n(zx)}" y="${T}" width="${n(zeros * bw)}" height="${ph}"/>`);
    const label = `nDCG = 0: ${zeros} of ${count} (${pct(zeros, count)})`;
    // Keep the label inside the plot: anchor it at the zone's right edge, or its left edge when the zone is wide.
    const anchorEnd = zeros * bw < 260;
    parts.push(`<text class="zone-label" x="${n(anchorEnd ? W - R - 4 : zx + 6)}" y="${T + 16}" text-anchor="${anchorEnd ? "end" : "start"}">${esc(label)}</text>`);
  }
  sorted.forEach((r, i) => {
    const v = Math.max(0, Math.min(1, r.ndcg_at_10));
    const zero = v === 0;
    // A zero would be invisible; draw a 2-unit stub in the warning colour instead.
    const h = zero ? 2 : Math.max(1, ph * v);
    const tip = `${r.id}: nDCG@10 ${f4(r.ndcg_at_10)}, first relevant rank ${r.firstRelevantRank ?? "none"} — ${clip(r.query, 120)}`;
    parts.push(
      `<rect class="bar${zero ? " zero" : ""}" x="${n(L + i * bw + gap / 2)}" y="${n(T + ph - h)}" width="${n(Math.max(0.5, bw - gap))}" height="${n(h)}"><title>${esc(tip)}</title></rect>`,
    );
  });
  if (Number.isFinite(meanNdcg)) {
    parts.push(`<line class="meanline" x1="${L}" x2="${W - R}" y1="${n(y(meanNdcg))}" y2="${n(y(meanNdcg))}"/>`);
    // At the right end the bars are the lowest, so the label above the line is clear of them; it
    // moves below the line when it would collide with the zero-band label at the top.
    const above = y(meanNdcg) - 6;
    const ly = zeros > 0 && above < T + 34 ? y(meanNdcg) + 15 : Math.max(T + 11, above);
    parts.push(`<text class="mean-label" x="${W - R - 4}" y="${n(ly)}" text-anchor="end">mean ${f4(meanNdcg)}</text>`);
  }
  parts.push(`<line class="axis" x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 8}" text-anchor="middle">${count} queries, best to worst</text>`);

  const desc = `Bar chart of nDCG@10 for each of ${count} queries, sorted from highest to lowest; mean ${f4(meanNdcg)}; ${zeros} queries (${pct(zeros, count)}) score 0.`;
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="bars-title bars-desc" preserveAspectRatio="xMidYMid meet">
<title id="bars-title">nDCG@10 per query</title><desc id="bars-desc">${esc(desc)}</desc>
${parts.join("\n")}
</svg>`;
}

export interface Bin {
  label: string;
  count: number;
  /** Drawn in the warning colour. */
  bad?: boolean;
}

/** A small column chart of counts (the histograms); `id` keeps the SVG's title/desc ids unique. */
export function binChart(id: string, title: string, axis: string, bins: Bin[], total: number, unit = "queries"): string {
  const W = 480;
  const H = 250;
  const L = 8;
  const R = 8;
  const T = 22;
  const B = 46;
  const pw = W - L - R;
  const ph = H - T - B;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const slot = pw / bins.length;
  const bw = slot * 0.76;
  const parts: string[] = [];
  bins.forEach((b, i) => {
    const h = b.count === 0 ? 0 : Math.max(2, (ph * b.count) / max);
    const x = L + i * slot + (slot - bw) / 2;
    parts.push(`<rect class="hbar${b.bad ? " zero" : ""}" x="${n(x)}" y="${n(T + ph - h)}" width="${n(bw)}" height="${n(h)}"><title>${esc(`${b.label}: ${b.count} ${unit} (${pct(b.count, total)})`)}</title></rect>`);
    parts.push(`<text class="count" x="${n(x + bw / 2)}" y="${n(T + ph - h - 5)}" text-anchor="middle">${b.count}</text>`);
    parts.push(`<text x="${n(x + bw / 2)}" y="${T + ph + 16}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  parts.push(`<line class="axis" x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(axis)}</text>`);
  const desc = `${title} over ${total} ${unit}: ${bins.map((b) => `${b.label}: ${b.count}`).join("; ")}.`;
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-title ${id}-desc">
<title id="${id}-title">${esc(title)}</title><desc id="${id}-desc">${esc(desc)}</desc>
${parts.join("\n")}
</svg>`;
}

/** nDCG@10 in bins: exactly 0, then (0, .1), [.1, .2), ..., [.9, 1]. */
function ndcgBins(rows: RetrievalQueryResult[]): Bin[] {
  const counts = new Array<number>(11).fill(0);
  for (const r of rows) {
    const v = r.ndcg_at_10;
    // Values are rounded to 4 decimals; work in ten-thousandths so 0.3 lands in [.3, .4).
    const i = v > 0 ? 1 + Math.min(9, Math.floor(Math.round(v * 10000) / 1000)) : 0;
    counts[i] = (counts[i] as number) + 1;
  }
  const labels = ["0", "<.1", ".1", ".2", ".3", ".4", ".5", ".6", ".7", ".8", ".9+"];
  return counts.map((count, i) => ({ label: labels[i] as string, count, bad: i === 0 }));
}

/** Where the first relevant document landed. */
function rankBins(rows: RetrievalQueryResult[]): Bin[] {
  const edges: [string, number, number][] = [
    ["1", 1, 1],
    ["2–3", 2, 3],
    ["4–10", 4, 10],
    ["11–20", 11, 20],
    ["21–100", 21, 100],
    [">100", 101, Infinity],
  ];
  const bins: Bin[] = edges.map(([label]) => ({ label, count: 0 }));
  let none = 0;
  for (const r of rows) {
    const k = r.firstRelevantRank;
    if (k === null) {
      none++;
      continue;
    }
    const i = edges.findIndex(([, lo, hi]) => k >= lo && k <= hi);
    if (i >= 0) (bins[i] as Bin).count++;
  }
  bins.push({ label: "none", count: none, bad: true });
  return bins;
}

function idList(ids: string[], highlight: ReadonlySet<string>): string {
  if (ids.length === 0) return `<span class="muted">—</span>`;
  const shown = ids.slice(0, IDS_SHOWN).map((id) => (highlight.has(id) ? `<span class="hit" title="relevant and in the top 10">${esc(id)}</span>` : esc(id)));
  const more = ids.length > IDS_SHOWN ? ` <span class="more">+${ids.length - IDS_SHOWN} more</span>` : "";
  return shown.join(", ") + more;
}

function worstTable(rows: RetrievalQueryResult[]): string {
  const NONE = 1e12; // sort key for "no relevant document returned": after every real rank
  const worst = [...rows]
    .sort((a, b) => a.ndcg_at_10 - b.ndcg_at_10 || (b.firstRelevantRank ?? NONE) - (a.firstRelevantRank ?? NONE) || a.id.localeCompare(b.id))
    .slice(0, WORST_ROWS);
  const body = worst
    .map((r) => {
      const top = new Set(r.top);
      const rel = new Set(r.relevant);
      const found = new Set(r.relevant.filter((id) => top.has(id)));
      const rank = r.firstRelevantRank === null ? `<span class="none">not returned</span>` : String(r.firstRelevantRank);
      return `<tr>
<td data-v="${esc(r.id)}"><code>${esc(r.id)}</code></td>
<td class="q" data-v="${esc(r.query.slice(0, 200))}">${esc(r.query)}</td>
<td class="num" data-v="${r.ndcg_at_10}">${r.ndcg_at_10 === 0 ? `<span class="z">${f4(0)}</span>` : f4(r.ndcg_at_10)}</td>
<td class="num" data-v="${r.recall_at_100}">${f4(r.recall_at_100)}</td>
<td class="num" data-v="${r.mrr_at_10}">${f4(r.mrr_at_10)}</td>
<td class="num" data-v="${r.firstRelevantRank ?? NONE}">${rank}</td>
<td class="ids" data-v="${r.relevant.length}">${idList(r.relevant, found)}</td>
<td class="ids" data-v="${r.top.filter((id) => rel.has(id)).length}">${idList(r.top, rel)}</td>
<td class="num" data-v="${r.ms}">${f2(r.ms)}</td>
</tr>`;
    })
    .join("\n");
  const th = (label: string, num: boolean, sort: "ascending" | "none", title: string): string =>
    `<th scope="col"${num ? ` class="num" data-type="num"` : ""} aria-sort="${sort}"><button type="button" title="${esc(title)}">${esc(label)}</button></th>`;
  const caption =
    rows.length > worst.length
      ? `The ${worst.length} lowest-scoring of ${rows.length} queries. Click a column heading to sort. Relevant ids found in the top 10 are highlighted.`
      : `All ${rows.length} queries, lowest nDCG@10 first. Click a column heading to sort. Relevant ids found in the top 10 are highlighted.`;
  return `<div class="table-wrap" role="region" aria-labelledby="worst-h" tabindex="0">
<table class="sortable">
<caption>${esc(caption)}</caption>
<thead><tr>
${th("Query id", false, "none", "Sort by query id")}
${th("Query", false, "none", "Sort by query text")}
${th("nDCG@10", true, "ascending", "Sort by nDCG@10")}
${th("R@100", true, "none", "Sort by Recall@100")}
${th("RR@10", true, "none", "Sort by reciprocal rank within 10")}
${th("First rel. rank", true, "none", "Sort by the rank of the first relevant document")}
${th("Relevant ids", true, "none", "Sort by the number of relevant documents")}
${th("Top 10 returned", true, "none", "Sort by the number of relevant documents in the top 10")}
${th("ms", true, "none", "Sort by search time")}
</tr></thead>
<tbody>
${body}
</tbody>
</table>
</div>`;
}

/** Renders a retrieval evaluation as one self-contained HTML page (inline CSS, inline SVG, no external assets). */
export function renderRetrievalReport(result: RetrievalEvalResult, meta: RetrievalReportMeta = {}): string {
  const rows = result.perQuery;
  const title = meta.title ?? `Retrieval evaluation: ${result.dataset} (${result.split})`;
  const zeros = rows.filter((r) => r.ndcg_at_10 === 0).length;
  const inTop10 = rows.filter((r) => r.firstRelevantRank !== null && r.firstRelevantRank <= 10).length;
  const notFound = rows.filter((r) => r.firstRelevantRank === null).length;
  const median = percentile(
    rows.map((r) => r.ndcg_at_10),
    50,
  );
  const chartMean = rows.length > 0 ? mean(rows.map((r) => r.ndcg_at_10)) : Number.NaN;

  const metaRows: string[] = [];
  if (meta.command !== undefined) metaRows.push(`<dt>Command</dt><dd><code>${esc(meta.command)}</code></dd>`);
  if (meta.machine !== undefined) metaRows.push(`<dt>Machine</dt><dd>${esc(meta.machine)}</dd>`);
  if (meta.generatedAt !== undefined) metaRows.push(`<dt>Generated</dt><dd>${esc(meta.generatedAt)}</dd>`);

  const card = (label: string, value: string, extra: string, cls = ""): string =>
    `<div class="card${cls ? ` ${cls}` : ""}"><div class="label">${label}</div><div class="value">${value}</div>${extra}</div>`;
  const meter = (x: number): string => `<div class="meter" aria-hidden="true"><span style="width:${meterWidth(x)}"></span></div>`;

  return htmlPage({
    title,
    eyebrow: "Strata · retrieval evaluation",
    css: CSS,
    header: `<p class="sub">Dataset <strong>${esc(result.dataset)}</strong> · split <strong>${esc(result.split)}</strong> · <strong>${result.queries}</strong> queries</p>
${metaRows.length > 0 ? `<dl class="meta">${metaRows.join("")}</dl>` : ""}`,
    main: `<section class="plain" aria-labelledby="headline-h">
<h2 id="headline-h" class="sr-only">Headline metrics</h2>
<div class="cards">
${card("nDCG@10", f4(result.ndcg_at_10), meter(result.ndcg_at_10), "primary")}
${card("Recall@100", f4(result.recall_at_100), meter(result.recall_at_100))}
${card("MRR@10", f4(result.mrr_at_10), meter(result.mrr_at_10))}
${card("Latency", `${f2(result.ms_per_query)}<span class="unit">ms/query</span>`, `<div class="note">p50 ${f2(result.p50_ms)} ms · p95 ${f2(result.p95_ms)} ms</div>`)}
${card("nDCG@10 = 0", pct(zeros, rows.length), `<div class="note">${zeros} of ${rows.length} queries found nothing relevant in the top 10</div>`, zeros > 0 ? "warn" : "")}
</div>
<p class="story">Median nDCG@10 is <strong>${f4(median)}</strong>. The first relevant document is in the top 10 for <strong>${pct(inTop10, rows.length)}</strong> of queries${
    notFound > 0 ? ` and is not returned at all for <strong>${pct(notFound, rows.length)}</strong> (${notFound})` : ""
  }.</p>
</section>
<section aria-labelledby="bars-h">
<h2 id="bars-h">nDCG@10 per query</h2>
<p class="note">One bar per query, best to worst; hover a bar for the query. The dashed line is the mean; the shaded band holds the queries that scored 0.</p>
<figure>${barChart(rows, chartMean)}</figure>
</section>
<div class="two">
<section aria-labelledby="hist-h">
<h2 id="hist-h">Distribution of nDCG@10</h2>
<p class="note">Queries per band of width 0.1; <span class="z">${zeros} (${pct(zeros, rows.length)})</span> score exactly 0.</p>
<figure>${binChart("hist", "Distribution of nDCG@10", "nDCG@10 (lower edge of each band)", ndcgBins(rows), rows.length)}</figure>
</section>
<section aria-labelledby="rank-h">
<h2 id="rank-h">Rank of the first relevant document</h2>
<p class="note">Where the first relevant document appears in each query's ranking; <span class="z">none</span> means it was not returned.</p>
<figure>${binChart("rank", "Rank of the first relevant document", "rank (1 is best)", rankBins(rows), rows.length)}</figure>
</section>
</div>
<section aria-labelledby="worst-h">
<h2 id="worst-h">Worst queries</h2>
<p class="note">nDCG@10 uses graded relevance with linear gain (BEIR / trec_eval); R@100 is the share of relevant documents in the first 100; RR@10 is 1 / rank of the first relevant document within 10.</p>
${worstTable(rows)}
</section>`,
    script: SORT_SCRIPT,
  });
}
