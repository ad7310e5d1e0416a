// The loss chart written next to a run (loss.html): one self-contained page — inline CSS and SVG, no
// script, no external assets — with the training loss per step, the validation loss at each
// evaluation, and the learning rate. Every text from outside (paths, config values) is escaped.
//
// The visual language follows src/eval/report-html.ts (cards, sections, the same colours and SVG
// classes), but that module sits above train/ in the layer order, so it cannot be imported here;
// the escaper both use lives below them, in src/core/html.ts.

import type { LossPoint, ValPoint } from "../formats/checkpoint.js";
import { escapeHtml, htmlPage } from "../core/html.js";

export interface ChartInput {
  title: string;
  history: { train: readonly LossPoint[]; val: readonly ValPoint[] };
  /** Steps planned (the x axis ends there). */
  steps: number;
  /** Label → value pairs shown under the heading (model, data, settings). */
  facts: ReadonlyArray<readonly [string, string]>;
  tokensPerSecond?: number;
  /** The small heading above the title (default "Strata · pretraining"). */
  eyebrow?: string;
}

const esc = escapeHtml;
function n(x: number): string {
  return String(Math.round(x * 100) / 100);
}
function fmt(x: number | undefined, digits = 4): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : "—";
}

const CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#17181c;--muted:#585b66;--card:#fff;--border:#d9dbe2;--grid:#e7e8ed;--accent:#2b64d3;--val:#c23a2c;--lr:#1d7a46}
@media (prefers-color-scheme:dark){:root{--bg:#101115;--fg:#ebecf0;--muted:#a4a7b3;--card:#191a20;--border:#30323b;--grid:#272932;--accent:#7aa2ff;--val:#ff7f73;--lr:#6fd69b}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif}
body{margin:0 auto;max-width:1100px;padding:28px 24px 48px}
h1{font-size:1.5rem;margin:.1rem 0 .35rem}h2{font-size:1.1rem;margin:0 0 .3rem}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:.75rem;color:var(--muted);margin:0;font-weight:600}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:.8rem 0 0;font-size:.9rem}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin-top:18px}
.card{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:14px 16px}
.card .label{font-size:.85rem;color:var(--muted);font-weight:600}
.card .value{font-size:2rem;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums}
.card .unit{font-size:.95rem;font-weight:500;color:var(--muted);margin-left:4px}
.card.primary .value{color:var(--accent)}.card.val .value{color:var(--val)}
section{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:18px 20px;margin-top:18px}
.note{color:var(--muted);margin:.2rem 0}
svg{display:block;width:100%;height:auto}
svg text{fill:var(--muted);font:12px system-ui,sans-serif}
svg .gridline{stroke:var(--grid);stroke-width:1}svg .axis{stroke:var(--border);stroke-width:1}
svg .train{fill:none;stroke:var(--accent);stroke-width:1.6}
svg .valline{fill:none;stroke:var(--val);stroke-width:1.6;stroke-dasharray:5 4}
svg .valdot{fill:var(--val)}
svg .lr{fill:none;stroke:var(--lr);stroke-width:1.6}
.legend span{display:inline-block;margin-right:16px;font-size:.9rem}
.sw{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:6px}
footer{margin-top:24px;color:var(--muted);font-size:.85rem}
`;

/** Averages consecutive points into at most `max` buckets (a long run stays a light page). */
function downsample(points: readonly LossPoint[], max: number): Array<{ step: number; value: number }> {
  if (points.length <= max) return points.map((p) => ({ step: p.step, value: p.loss }));
  const out: Array<{ step: number; value: number }> = [];
  const per = points.length / max;
  for (let b = 0; b < max; b++) {
    const lo = Math.floor(b * per);
    const hi = Math.max(lo + 1, Math.floor((b + 1) * per));
    let s = 0;
    let c = 0;
    for (let i = lo; i < hi && i < points.length; i++) {
      if (Number.isFinite(points[i]!.loss)) {
        s += points[i]!.loss;
        c++;
      }
    }
    if (c > 0) out.push({ step: points[Math.min(hi, points.length) - 1]!.step, value: s / c });
  }
  return out;
}

interface Series {
  cls: string;
  points: Array<{ step: number; value: number }>;
  dots?: boolean;
}

function lineChart(id: string, title: string, series: Series[], xMax: number, yLabel: string, tick: (v: number) => string): string {
  const W = 960;
  const H = 320;
  const L = 72;
  const R = 14;
  const T = 14;
  const B = 36;
  const pw = W - L - R;
  const ph = H - T - B;
  const all = series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite);
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-9) {
    hi += 0.5;
    lo = Math.max(0, lo - 0.5);
  }
  const pad = (hi - lo) * 0.05;
  lo = Math.max(0, lo - pad);
  hi += pad;
  const xm = Math.max(1, xMax);
  const x = (s: number): number => L + (pw * s) / xm;
  const y = (v: number): number => T + ph * (1 - (v - lo) / (hi - lo));
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(`<line class="gridline" x1="${L}" x2="${W - R}" y1="${n(y(v))}" y2="${n(y(v))}"/>`);
    parts.push(`<text x="${L - 6}" y="${n(y(v) + 4)}" text-anchor="end">${tick(v)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const s = Math.round((xm * i) / 5);
    parts.push(`<text x="${n(x(s))}" y="${T + ph + 16}" text-anchor="middle">${s}</text>`);
  }
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.value));
    if (pts.length === 0) continue;
    parts.push(`<polyline class="${s.cls}" points="${pts.map((p) => `${n(x(p.step))},${n(y(p.value))}`).join(" ")}"/>`);
    if (s.dots) for (const p of pts) parts.push(`<circle class="valdot" cx="${n(x(p.step))}" cy="${n(y(p.value))}" r="3.5"><title>step ${p.step}: ${p.value.toFixed(4)}</title></circle>`);
  }
  parts.push(`<line class="axis" x1="${L}" x2="${W - R}" y1="${T + ph}" y2="${T + ph}"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 6}" text-anchor="middle">step</text>`);
  parts.push(`<text x="12" y="${T + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${T + ph / 2})">${esc(yLabel)}</text>`);
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-title"><title id="${id}-title">${esc(title)}</title>\n${parts.join("\n")}\n</svg>`;
}

/** Held-out figures beyond the loss (DPO: reward margin, preference accuracy) by evaluation, when present. */
function metricsSection(val: readonly ValPoint[]): string {
  const names = [...new Set(val.flatMap((v) => Object.keys(v.metrics ?? {})))];
  if (names.length === 0) return "";
  const steps = Math.max(1, ...val.map((v) => v.step));
  const charts = names.map((name) => {
    const points = val.filter((v) => v.metrics?.[name] !== undefined).map((v) => ({ step: v.step, value: v.metrics![name]! }));
    return `<h3>${esc(name)}</h3><figure>${lineChart(`m-${name}`, `${name} on the held-out split by step`, [{ cls: "valline", points, dots: true }], steps, name, (x) => x.toFixed(2))}</figure>`;
  });
  return `\n<section>\n<h2>Held-out metrics</h2>\n<p class="note">Measured on the validation split at each evaluation.</p>\n${charts.join("\n")}\n</section>`;
}

/** The page. */
export function renderLossChart(input: ChartInput): string {
  const { train, val } = input.history;
  const last = train[train.length - 1];
  const lastVal = val[val.length - 1];
  const lossSeries: Series[] = [{ cls: "train", points: downsample(train, 1500) }];
  if (val.length > 0) lossSeries.push({ cls: "valline", points: val.map((v) => ({ step: v.step, value: v.loss })), dots: true });
  const lrPoints = (train.length > 1500 ? train.filter((_, i) => i % Math.ceil(train.length / 1500) === 0) : train).map((p) => ({ step: p.step, value: p.lr }));
  const card = (label: string, value: string, cls = ""): string => `<div class="card${cls ? ` ${cls}` : ""}"><div class="label">${esc(label)}</div><div class="value">${value}</div></div>`;
  return htmlPage({
    title: input.title,
    eyebrow: input.eyebrow ?? "Strata · pretraining",
    css: CSS,
    header: `<dl class="meta">${input.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`,
    main: `<div class="cards">
${card("Step", `${last?.step ?? 0}<span class="unit">/ ${input.steps}</span>`)}
${card(lastVal?.trainLoss !== undefined ? "Training loss" : "Training loss (last step)", fmt(lastVal?.trainLoss ?? last?.loss), "primary")}
${card("Validation loss", fmt(lastVal?.loss), "val")}
${card("Val. perplexity", fmt(lastVal?.perplexity, 2), "val")}
${card("Tokens/s", input.tokensPerSecond !== undefined ? Math.round(input.tokensPerSecond).toLocaleString("en-US") : "—")}
${Object.entries(lastVal?.metrics ?? {}).map(([k, v]) => card(`Held-out ${k}`, fmt(v))).join("\n")}
</div>${metricsSection(val)}
<section>
<h2>Loss</h2>
<p class="legend"><span><i class="sw" style="background:var(--accent)"></i>training loss per step${train.length > 1500 ? " (averaged over buckets)" : ""}</span><span><i class="sw" style="background:var(--val)"></i>validation loss</span></p>
<figure>${lineChart("loss", "Training and validation loss by step", lossSeries, input.steps, "cross-entropy (nats/token)", (v) => v.toFixed(2))}</figure>
</section>
<section>
<h2>Learning rate</h2>
<p class="note">Linear warm-up, then cosine decay to the floor.</p>
<figure>${lineChart("lr", "Learning rate by step", [{ cls: "lr", points: lrPoints }], input.steps, "learning rate", (v) => (v === 0 ? "0" : v.toExponential(1)))}</figure>
</section>`,
  });
}
