// The Content-Security-Policy of a published report's HTML page. The page comes from a file in the
// data folder, so it is treated as foreign content: `sandbox` gives it an opaque origin (it cannot
// read the UI's stored key or call the API as the UI), it may load and send nothing (no connect,
// no forms, no images from elsewhere), and the only script allowed is the click-to-sort script our
// own renderer writes, pinned by its hash — any other script in a tampered file does not run.
import { createHash } from "node:crypto";
import { renderRetrievalReport } from "../eval/report-html.js";

let cached: string | undefined;

/** sha256 sources of the inline scripts the renderer emits, read from a tiny rendered report. */
function rendererScriptHashes(): string[] {
  const sample = renderRetrievalReport({ dataset: "x", split: "x", queries: 0, ndcg_at_10: 0, recall_at_100: 0, mrr_at_10: 0, ms_per_query: 0, p50_ms: 0, p95_ms: 0, perQuery: [] });
  const hashes: string[] = [];
  for (const m of sample.matchAll(/<script>([\s\S]*?)<\/script>/g)) hashes.push(`'sha256-${createHash("sha256").update(m[1]!, "utf8").digest("base64")}'`);
  return hashes;
}

export function reportCsp(): string {
  if (cached !== undefined) return cached;
  const scripts = rendererScriptHashes();
  cached = [
    "default-src 'none'",
    `script-src ${scripts.length > 0 ? scripts.join(" ") : "'none'"}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "sandbox allow-scripts",
  ].join("; ");
  return cached;
}
