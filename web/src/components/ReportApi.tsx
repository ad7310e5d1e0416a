// Published evaluation reports as the server sends them (GET /api/eval-reports, docs/api.md), and
// the one request the JSON client cannot make: the report's HTML page, fetched with the key.
import { ApiError, type Client, enc } from "../api.ts";

export type ReportKind = "retrieval" | "lm" | "qa" | "tools" | "agents" | "compare";

export const KIND_LABEL: Record<ReportKind, string> = { retrieval: "retrieval", lm: "language model", qa: "question answering", tools: "function calling", agents: "agent tasks", compare: "run comparison" };

export type ReportSummary =
  | { id: string; damaged: false; kind: ReportKind; title: string; dataset: string; split: string | null; createdAt: string; metrics: Record<string, number>; hasHtml: boolean }
  | { id: string; damaged: true; error: string };

export interface PublishedReport {
  id: string;
  kind: ReportKind;
  title: string;
  dataset: string;
  split: string | null;
  createdAt: string;
  strataVersion: string;
  command: string | null;
  metrics: Record<string, number>;
  hasHtml: boolean;
  perQuery?: { id: string; ndcg_at_10: number }[];
  windows?: { index: number; tokens: number; loss: number }[];
  perItem?: { id: string; f1?: number; abstained?: boolean; correct?: boolean; category?: string }[];
  runs?: { a: string; b: string };
  deltas?: { metric: string; meanA: number; meanB: number; delta: number; low: number; high: number; n: number }[];
}

/** Two published reports side by side (GET /api/eval-reports/compare). */
export interface ReportComparison {
  a: { id: string; kind: string; title: string };
  b: { id: string; kind: string; title: string };
  metrics: { metric: string; a: number; b: number; delta: number }[];
  paired: { metric: string; n: number; meanA: number; meanB: number; delta: number; low: number; high: number; pNotBetter: number } | null;
  changed: { id: string; a: number; b: number; delta: number }[];
}

export const compareReports = (client: Client, a: string, b: string, signal: AbortSignal): Promise<ReportComparison> =>
  client.request<ReportComparison>(`/api/eval-reports/compare?a=${enc(a)}&b=${enc(b)}`, { signal });

export const listReports = (client: Client, signal: AbortSignal): Promise<ReportSummary[]> => client.request<ReportSummary[]>("/api/eval-reports", { signal });

export const getReport = (client: Client, id: string, signal: AbortSignal): Promise<PublishedReport> => client.request<PublishedReport>(`/api/eval-reports/${enc(id)}`, { signal });

export const deleteReport = (client: Client, id: string): Promise<unknown> => client.request(`/api/eval-reports/${enc(id)}`, { method: "DELETE" });

/** The report's HTML page as text; the key goes in the header, never in a URL. */
export async function getReportHtml(client: Client, id: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(`/api/eval-reports/${enc(id)}/html`, { headers: { Authorization: `Bearer ${client.key}`, Accept: "text/html" }, credentials: "omit", cache: "no-store", signal });
  if (!res.ok) {
    let body: { error?: { code?: string; message?: string; hint?: string } } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `the report page could not be loaded (HTTP ${res.status})`, body.error?.hint);
  }
  return res.text();
}

/** Headline figures in reading order, with their display names and digits. */
const METRICS: Record<string, { label: string; digits: number }> = {
  ndcg_at_10: { label: "nDCG@10", digits: 4 },
  recall_at_100: { label: "Recall@100", digits: 4 },
  mrr_at_10: { label: "MRR@10", digits: 4 },
  queries: { label: "Queries", digits: 0 },
  ms_per_query: { label: "ms / query", digits: 2 },
  loss: { label: "Loss (nats/token)", digits: 4 },
  perplexity: { label: "Perplexity", digits: 3 },
  tokens: { label: "Tokens", digits: 0 },
  window: { label: "Window", digits: 0 },
  seconds: { label: "Seconds", digits: 1 },
  f1: { label: "F1", digits: 4 },
  em: { label: "Exact match", digits: 4 },
  abstention_precision: { label: "Abstention precision", digits: 3 },
  abstention_recall: { label: "Abstention recall", digits: 3 },
  citation_recall: { label: "Citation recall", digits: 3 },
  citation_precision: { label: "Citation precision", digits: 3 },
  questions: { label: "Questions", digits: 0 },
  ms_per_question: { label: "ms / question", digits: 1 },
  common_items: { label: "Items in common", digits: 0 },
};

export function metricRows(metrics: Record<string, number>): { key: string; label: string; text: string }[] {
  const known = Object.keys(METRICS).filter((k) => k in metrics);
  const other = Object.keys(metrics).filter((k) => !(k in METRICS)).sort();
  return [...known, ...other].map((key) => {
    const m = METRICS[key];
    const v = metrics[key]!;
    return { key, label: m?.label ?? key, text: Number.isFinite(v) ? v.toLocaleString(undefined, { maximumFractionDigits: m?.digits ?? 4, minimumFractionDigits: m?.digits ?? 0 }) : "—" };
  });
}

const HEADLINE: Record<ReportKind, string> = { retrieval: "ndcg_at_10", lm: "perplexity", qa: "f1", tools: "accuracy", agents: "success_rate", compare: "delta_f1" };

/** The one figure a list row shows: nDCG@10 for retrieval, perplexity for a language model, F1 for QA, accuracy or success rate for tools and agents, the F1 delta for a comparison. */
export function headline(r: Extract<ReportSummary, { damaged: false }>): string {
  const key = HEADLINE[r.kind] ?? "";
  const row = metricRows(r.metrics).find((m) => m.key === key);
  return row ? `${row.label} ${row.text}` : "";
}
