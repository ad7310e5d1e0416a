// Test helpers for the answer pipeline: a scripted LanguageModel (the layer under test is the
// pipeline, not the model: it records every request and replies with given texts, streamed in
// small deltas) and a small knowledge base with access lists built from test/fixtures/kb.
import { join } from "node:path";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamEvent, Usage } from "../../../src/model/types.js";
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";
import { repoRoot, tempDir } from "../../helpers/paths.js";

/** A reply: fixed text, or text computed from the request (e.g. citing the source that holds a fact). */
export type Reply = string | ((request: GenerateRequest) => string);

export interface ScriptedOptions {
  contextLength?: number;
  usage?: Usage;
  /** Characters per text delta (default 5). */
  chunk?: number;
  /** Leave out the finish event (a provider that reports no usage). */
  noFinish?: boolean;
  /** Replace the finish event's result (to test malformed provider output). */
  finish?: unknown;
}

export class ScriptedModel implements LanguageModel {
  readonly id = "scripted:test";
  readonly provider = "scripted";
  readonly contextLength: number | undefined;
  readonly requests: GenerateRequest[] = [];
  closed = false;
  private turn = 0;

  constructor(
    private readonly replies: Reply[],
    private readonly opts: ScriptedOptions = {},
  ) {
    this.contextLength = opts.contextLength ?? 8192;
  }

  private next(request: GenerateRequest): string {
    this.requests.push(request);
    const reply = this.replies[Math.min(this.turn++, this.replies.length - 1)];
    if (reply === undefined) throw new Error("the scripted model has no reply");
    return typeof reply === "function" ? reply(request) : reply;
  }

  private result(text: string): GenerateResult {
    return { text, toolCalls: [], finishReason: "stop", usage: this.opts.usage ?? { inputTokens: 100, outputTokens: 20, costUsd: 0.0001 }, model: "scripted-1", latencyMs: 1 };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.result(this.next(request));
  }

  async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    const text = this.next(request);
    const size = this.opts.chunk ?? 5;
    for (let i = 0; i < text.length; i += size) yield { type: "text-delta", text: text.slice(i, i + size) };
    if (this.opts.noFinish) return;
    yield { type: "finish", result: (this.opts.finish ?? this.result(text)) as GenerateResult };
  }

  async countTokens(text: string): Promise<number> {
    return Math.ceil(text.length / 4);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The user message of the i-th request (the sources and the question). */
  prompt(i = this.requests.length - 1): string {
    const msgs = this.requests[i]?.messages ?? [];
    return msgs[msgs.length - 1]?.content ?? "";
  }

  system(i = this.requests.length - 1): string {
    return this.requests[i]?.messages[0]?.content ?? "";
  }
}

/** The fenced sources of a prompt: number → text between its fences (title line included). */
export function sourcesOf(prompt: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of prompt.matchAll(/^<<<SOURCE (\d+) ([A-Za-z0-9]+)>>>\n([\s\S]*?)\n<<<END SOURCE \1 \2>>>$/gm)) out.set(Number(m[1]), m[3]!);
  return out;
}

/** The number of the source whose text contains `needle` (throws when none does). */
export function sourceWith(request: GenerateRequest, needle: string): number {
  const prompt = request.messages[request.messages.length - 1]?.content ?? "";
  for (const [n, text] of sourcesOf(prompt)) if (text.includes(needle)) return n;
  throw new Error(`no source in the prompt contains "${needle}"`);
}

/** A reply citing the source that contains `needle`: cite("9 pounds", n => `… [${n}].`). */
export function cite(needle: string, text: (n: number) => string): Reply {
  return (req) => text(sourceWith(req, needle));
}

/** The fixture corpus in a fresh knowledge base: public guide and history, research (group), ops (omar). */
export async function fixtureKb(): Promise<KnowledgeBase> {
  const corpus = join(repoRoot(), "test", "fixtures", "kb");
  const kb = KnowledgeBase.open(join(tempDir(), "kb"), { create: true });
  await kb.ingest([join(corpus, "public")]);
  await kb.ingest([join(corpus, "research")], { acl: { groups: ["research"] } });
  await kb.ingest([join(corpus, "ops")], { acl: { users: ["omar"] } });
  return kb;
}

export const GUEST = { user: "guest", groups: [] };
export const DANA = { user: "dana", groups: ["research"] };
