// Comparing two published reports (the server's compare view): the headline metrics side by side
// with their deltas, and — when both reports carry per-item figures of the same kind (nDCG@10 per
// query, F1 per question) — the paired bootstrap 95% interval of the per-item delta and the items
// that changed most.
import { StrataError } from "../core/errors.js";
import { pairedBootstrap, type PairedInterval } from "./bootstrap.js";
import type { PublishedReport } from "./published-reports.js";

export interface PublishedComparison {
  a: { id: string; kind: string; title: string };
  b: { id: string; kind: string; title: string };
  metrics: { metric: string; a: number; b: number; delta: number }[];
  /** Per-item metric and its paired interval, when both reports have per-item figures. */
  paired: (PairedInterval & { metric: string }) | null;
  changed: { id: string; a: number; b: number; delta: number }[];
}

function perItem(r: PublishedReport): { metric: string; values: Map<string, number> } | null {
  if (r.kind === "retrieval") return { metric: "ndcg_at_10", values: new Map(r.perQuery.map((q) => [q.id, q.ndcg_at_10])) };
  if (r.kind === "qa") return { metric: "f1", values: new Map(r.perItem.map((q) => [q.id, q.f1])) };
  if (r.kind === "tools" || r.kind === "agents") return { metric: "correct", values: new Map(r.perItem.map((q) => [q.id, q.correct ? 1 : 0])) };
  return null;
}

export function comparePublished(A: PublishedReport, B: PublishedReport, top = 10): PublishedComparison {
  if (A.kind !== B.kind) throw new StrataError("USAGE", `report ${A.id} is a ${A.kind} report and ${B.id} a ${B.kind} report`, "compare two reports of the same kind");
  const metrics = Object.keys(A.metrics)
    .filter((k) => k in B.metrics)
    .map((k) => ({ metric: k, a: A.metrics[k] as number, b: B.metrics[k] as number, delta: Number(((B.metrics[k] as number) - (A.metrics[k] as number)).toFixed(6)) }));
  const pa = perItem(A);
  const pb = perItem(B);
  let paired: PublishedComparison["paired"] = null;
  let changed: PublishedComparison["changed"] = [];
  if (pa && pb) {
    const ids = [...pa.values.keys()].filter((id) => pb.values.has(id));
    if (ids.length > 0) {
      const va = ids.map((id) => pa.values.get(id) as number);
      const vb = ids.map((id) => pb.values.get(id) as number);
      paired = { metric: pa.metric, ...pairedBootstrap(va, vb) };
      changed = ids
        .map((id, i) => ({ id, a: va[i] as number, b: vb[i] as number, delta: Number(((vb[i] as number) - (va[i] as number)).toFixed(6)) }))
        .filter((c) => c.delta !== 0)
        .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.id.localeCompare(y.id))
        .slice(0, top);
    }
  }
  return { a: { id: A.id, kind: A.kind, title: A.title }, b: { id: B.id, kind: B.kind, title: B.title }, metrics, paired, changed };
}
