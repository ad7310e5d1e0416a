// Usage and cost accounting shared by every provider: the price of a call from a price table, a
// token estimate where a backend reports none, and a meter that sums calls over a session.
import type { EmbeddingModel, GenerateRequest, GenerateResult, LanguageModel, ModelPrice, StreamEvent, Usage } from "./types.js";

/** Cost in US dollars of one call's tokens at a price per million tokens. */
export function costOf(usage: Pick<Usage, "inputTokens" | "outputTokens">, price: ModelPrice): number {
  return (usage.inputTokens * price.inputPerMillion + usage.outputTokens * price.outputPerMillion) / 1_000_000;
}

/**
 * The price of a model: the table's entry for the exact key given (a full reference such as
 * "openai:https://api.openai.com/v1#gpt-4o-mini", or a bare model name), else, for a reference
 * with a `#model` part, the entry for that model name. Undefined when the table has neither.
 */
export function priceFor(prices: Record<string, ModelPrice> | undefined, modelRefOrName: string): ModelPrice | undefined {
  if (!prices) return undefined;
  // Own properties only: a name like "constructor" must not find Object.prototype's.
  const own = (key: string): ModelPrice | undefined => (Object.hasOwn(prices, key) ? prices[key] : undefined);
  const exact = own(modelRefOrName);
  if (exact) return exact;
  const hash = modelRefOrName.lastIndexOf("#");
  return hash >= 0 ? own(modelRefOrName.slice(hash + 1)) : undefined;
}

/** Usage with `costUsd` filled in when a price is known (left absent otherwise, never guessed). */
export function withCost(usage: Pick<Usage, "inputTokens" | "outputTokens">, price: ModelPrice | undefined): Usage {
  const out: Usage = { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
  if (price) out.costUsd = costOf(usage, price);
  return out;
}

/**
 * Rough token count for backends without a tokenizer endpoint: one token per four characters
 * (UTF-16 code units), the usual rule of thumb for English BPE vocabularies. Good for budgeting,
 * not for billing.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Sum over the calls that had a price; see `unpricedCalls` for the rest. */
  costUsd: number;
  /** Calls whose usage carried no cost (their model has no price in the table). */
  unpricedCalls: number;
  /** Sum of the calls' latencies. */
  latencyMs: number;
}

/** Sums usage over many calls (an agent run, an eval, a server session). */
export class UsageMeter {
  private totals: UsageTotals = UsageMeter.empty();

  private static empty(): UsageTotals {
    return { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, latencyMs: 0 };
  }

  /** Adds one call. */
  record(usage: Usage, latencyMs = 0): void {
    const t = this.totals;
    t.calls += 1;
    t.inputTokens += usage.inputTokens;
    t.outputTokens += usage.outputTokens;
    if (usage.costUsd === undefined) t.unpricedCalls += 1;
    else t.costUsd += usage.costUsd;
    t.latencyMs += latencyMs;
  }

  /** Adds a finished generation (its usage and latency). */
  recordResult(result: Pick<GenerateResult, "usage" | "latencyMs">): void {
    this.record(result.usage, result.latencyMs);
  }

  /** A copy of the totals so far. */
  snapshot(): UsageTotals {
    return { ...this.totals };
  }

  reset(): void {
    this.totals = UsageMeter.empty();
  }
}

/**
 * Wraps any language model so every finished generate() and stream() is recorded in `meter`.
 * Calls that fail or streams abandoned before their finish event are not counted: the backend
 * reported no usage for them.
 */
export function meterLanguageModel(model: LanguageModel, meter: UsageMeter): LanguageModel {
  return {
    specificationVersion: model.specificationVersion,
    capabilities: model.capabilities,
    id: model.id,
    provider: model.provider,
    contextLength: model.contextLength,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const result = await model.generate(request);
      meter.recordResult(result);
      return result;
    },
    async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
      for await (const event of model.stream(request)) {
        if (event.type === "finish") meter.recordResult(event.result);
        yield event;
      }
    },
    countTokens: (text) => model.countTokens(text),
    close: () => model.close(),
  };
}

/** Wraps an embedding model so each embed() call is recorded (estimated input tokens, latency). */
export function meterEmbeddingModel(model: EmbeddingModel, meter: UsageMeter): EmbeddingModel {
  return {
    id: model.id,
    get dimensions() {
      return model.dimensions;
    },
    async embed(texts, opts) {
      const started = performance.now();
      const vectors = await model.embed(texts, opts);
      const inputTokens = texts.reduce((n, t) => n + estimateTokens(t), 0);
      meter.record({ inputTokens, outputTokens: 0 }, performance.now() - started);
      return vectors;
    },
    close: () => model.close(),
  };
}
