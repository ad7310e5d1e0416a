// Function-calling evaluation on BFCL: every question goes to the model with its functions as
// tools (native tool calls, temperature 0); the calls are scored by the AST checker
// (./function-calling.ts, order-free for the parallel categories). Scored items go to the caller
// as they come, so a stored run can be resumed.
import { performance } from "node:perf_hooks";
import { StrataError, throwIfAborted } from "../core/errors.js";
import type { LongOperationOptions } from "../core/events.js";
import type { LanguageModel } from "../model/types.js";
import type { BfclItem } from "./bfcl.js";
import { checkCalls, toToolDefinition, type FunctionCall } from "./function-calling.js";
import { mean } from "./metrics.js";
import type { StoredItem } from "./run-store.js";

export interface ToolsEvalOptions extends LongOperationOptions {
  maxTokens?: number;
  done?: ReadonlySet<string>;
  onItem: (item: StoredItem) => void;
}

/** Asks the model each question not in `done` and scores its calls. */
export async function runToolsEval(items: readonly BfclItem[], model: LanguageModel, opts: ToolsEvalOptions): Promise<void> {
  let n = items.length - items.filter((i) => !opts.done?.has(i.id)).length;
  for (const item of items) {
    if (opts.done?.has(item.id)) continue;
    throwIfAborted(opts.signal);
    const t0 = performance.now();
    const r = await model.generate({
      messages: item.messages.map((m) => ({ role: m.role === "system" ? "system" : "user", content: m.content })),
      tools: item.functions.map(toToolDefinition),
      toolChoice: "auto",
      temperature: 0,
      maxTokens: opts.maxTokens ?? 256,
      signal: opts.signal,
    });
    const calls: FunctionCall[] = r.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments }));
    const v = checkCalls(calls, item.functions, item.truth);
    opts.onItem({
      id: item.id,
      metrics: { correct: v.ok ? 1 : 0, ms: Number((performance.now() - t0).toFixed(3)) },
      detail: { question: item.messages.map((m) => m.content).join("\n"), category: item.category, calls, answer: r.text.slice(0, 500), verdict: v.ok ? "ok" : v.kind, reason: v.ok ? "" : v.detail },
    });
    n++;
    opts.onProgress?.({ phase: "eval", done: n, total: items.length, item: item.id });
  }
}

/** Accuracy overall and per category, and the count of each failure kind. */
export function summarizeTools(items: readonly StoredItem[]): Record<string, number | null> {
  if (items.length === 0) throw new StrataError("USAGE", "no function-calling items were scored", "check the --data file");
  const out: Record<string, number | null> = { questions: items.length, accuracy: Number(mean(items.map((i) => i.metrics.correct ?? 0)).toFixed(4)) };
  const cats = new Map<string, number[]>();
  const kinds = new Map<string, number>();
  for (const i of items) {
    const c = String(i.detail.category);
    cats.set(c, [...(cats.get(c) ?? []), i.metrics.correct ?? 0]);
    const k = String(i.detail.verdict);
    if (k !== "ok") kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  for (const [c, xs] of cats) out[`accuracy_${c}`] = Number(mean(xs).toFixed(4));
  for (const [k, v] of kinds) out[`failed_${k}`] = v;
  out.ms_per_question = Number(mean(items.map((i) => i.metrics.ms ?? 0)).toFixed(2));
  return out;
}
