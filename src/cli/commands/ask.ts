import { Option, type Command } from "commander";
import { answerGuards } from "../../agents/guardrails/answer-guards.js";
import { answerWithModel, type VerifyMode } from "../../knowledge/answer/generative.js";
import type { GroundedAnswer } from "../../knowledge/answer/types.js";
import { KnowledgeBase, SEARCH_MODES, type SearchMode } from "../../knowledge/knowledge-base.js";
import { createLanguageModel } from "../../model/registry.js";
import type { EmbeddingModel } from "../../model/types.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parseAccess, parseList, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";
import { withEmbeddingModel } from "./embed.js";
import { addGuardrailRunOptions, type GuardrailRunFlags } from "./guardrails.js";

interface AskFlags extends GuardrailRunFlags {
  kb?: string;
  as?: string;
  groups?: string;
  tags?: string;
  k?: string;
  model?: string;
  verify?: VerifyMode;
  contextTokens?: string;
  maxTokens?: string;
  mode?: SearchMode;
  embed?: string;
  stream?: boolean;
  minSupport?: string;
  json?: boolean;
}

/** The flags that only mean something with --model, shared with `strata chat`. */
export interface ModelAnswerFlags {
  verify?: VerifyMode;
  contextTokens?: string;
  maxTokens?: string;
}

export function modelAnswerOptions(flags: ModelAnswerFlags): { verify: VerifyMode; maxContextTokens?: number; maxAnswerTokens?: number } {
  return {
    verify: flags.verify ?? "flag",
    maxContextTokens: flags.contextTokens === undefined ? undefined : parsePositiveInt("--context-tokens", flags.contextTokens, 4096, 10_000_000),
    maxAnswerTokens: flags.maxTokens === undefined ? undefined : parsePositiveInt("--max-tokens", flags.maxTokens, 512, 1_000_000),
  };
}

const HELP = `
Without --model (the default) the answer is extractive: sentences quoted from the sources, each with
its citation [n]; when no sentence covers the question well enough it says so instead of guessing.

With --model a language model writes the answer from the retrieved sources (fenced as data it must
not obey), citing [n] after each claim. Every sentence is then checked against the text of the
sources it cites (term coverage; numbers and names must appear there): unsupported sentences are
flagged (--verify flag) or removed (--verify remove), and when none is supported the answer says
the knowledge base does not contain it. Each run stores a trace: \`strata trace <id> --kb <dir>\`.

Extractive answers carry a support: the estimated probability that the quoted sentence holds the
answer (calibrated on SQuAD 2.0 and off-topic questions). Below --min-support (default 0.5) the
answer is "not found", with the reason; raise it to be wrong less often, lower it to answer more.

Examples:
  strata ask "How much does an adult ticket cost?" --kb ./kb --as guest
  strata ask "Who founded the museum?" --kb ./kb --min-support 0.7
  strata ask "How much does an adult ticket cost?" --kb ./kb --model openai:http://127.0.0.1:11434/v1#llama3
  strata ask "When do night tours start?" --kb ./kb --model gguf:./models/chat.gguf --verify remove --json`;

export function registerAsk(program: Command): void {
  const cmd = program
    .command("ask")
    .description("answer a question from a knowledge base, citing the exact source span of every sentence")
    .argument("<question>", "the question")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--as <user>", "ask as this user (default: the store's owner, who sees everything)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--tags <tags>", "only documents with one of these tags")
    .option("-k, --k <n>", "chunks to read for the answer (default 8)")
    .option("--model <ref>", "language model that writes the answer, e.g. openai:http://127.0.0.1:11434/v1#llama3 or gguf:./models/chat.gguf")
    .addOption(new Option("--verify <how>", "with --model: what to do with unsupported sentences (default flag)").choices(["flag", "remove"]))
    .option("--context-tokens <n>", "with --model: most tokens of the model's window to use (default: the model's window)")
    .option("--max-tokens <n>", "with --model: tokens kept for the answer (default 512)")
    .addOption(new Option("--mode <mode>", "with --model: retrieval mode (default: hybrid with --embed, else lexical)").choices(SEARCH_MODES))
    .option("--embed <ref>", "with --model: embedding model for dense or hybrid retrieval")
    .option("--stream", "with --model: print the answer as it is written even when stdout is not a terminal")
    .option("--min-support <p>", "without --model: least estimated probability (0–1) that the quoted sentence answers; higher abstains more and is wrong less (default 0.5; see BENCHMARKS.md)")
    .option("--json", "print one JSON document: {answer, mode, supported, citations:[…], sentences, trace; with --model also usage, traceId}")
    .addHelpText("after", HELP);
  addGuardrailRunOptions(cmd)
    .action(withCommand(async (question: string, flags: AskFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const k = parsePositiveInt("-k", flags.k, 8, 100);
      if (flags.model && flags.minSupport !== undefined) throw usageError("--min-support applies to extractive answers (without --model)", "leave out --min-support, or --model; a model's sentences are checked with --verify");
      if (!flags.model) {
        const stray = (["verify", "contextTokens", "maxTokens", "mode", "embed", "stream"] as const).find((f) => flags[f] !== undefined);
        if (stray) throw usageError(`--${stray.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} needs --model <ref>`, 'add a language model, e.g. --model openai:http://127.0.0.1:11434/v1#llama3');
        return askExtractively(question, flags, k, ctx);
      }
      const options = modelAnswerOptions(flags);
      const mode: SearchMode = flags.mode ?? (flags.embed ? "hybrid" : "lexical");
      if (mode !== "lexical" && !flags.embed) throw usageError(`--mode ${mode} needs --embed <ref>`, "name the embedding model that embedded the chunks");
      // The model is created before the store is opened, so a wrong reference fails first.
      const model = await createLanguageModel(flags.model, providerOptions());
      try {
        const kb = KnowledgeBase.open(requireKb(flags.kb), {});
        try {
          const streaming = !flags.json && (flags.stream === true || Boolean(process.stdout.isTTY));
          const run = (embedder?: EmbeddingModel): Promise<GroundedAnswer> =>
            answerWithModel(kb, question, {
              model,
              access,
              k,
              filter: { tags: parseList(flags.tags) },
              search: { mode, embedder },
              ...options,
              guards: answerGuards(kb.guardrails(), flags),
              onDelta: streaming ? (d) => process.stdout.write(d) : undefined,
              signal: ctx.signal,
            });
          const a = flags.embed && mode !== "lexical" ? await withEmbeddingModel(flags.embed, run) : await run();
          if (flags.json) ctx.printJson(a);
          else printModelAnswer(a, { streamed: streaming, kb: flags.kb! });
          return 0;
        } finally {
          kb.close();
        }
      } finally {
        await model.close();
      }
    }));
}

async function askExtractively(question: string, flags: AskFlags, k: number, ctx: CommandContext): Promise<number> {
  const access = parseAccess(flags);
  const kb = await KnowledgeBase.openAt(requireKb(flags.kb), {});
  try {
    const minSupport = parseSupport(flags.minSupport);
    const a = await kb.answer(question, {
      access,
      k,
      filter: { tags: parseList(flags.tags) },
      extractive: minSupport === undefined ? undefined : { minSupport },
      guards: answerGuards(kb.guardrails(), flags),
    });
    if (flags.json) {
      ctx.printJson(a);
      return 0;
    }
    printExtractiveAnswer(a);
    return 0;
  } finally {
    await kb.closeAsync();
  }
}

function parseSupport(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const p = Number(value);
  if (!/^\s*(?:0|1|0?\.\d+|1\.0*)\s*$/.test(value) || !(p >= 0 && p <= 1)) throw usageError(`--min-support must be a number from 0 to 1, not "${value.slice(0, 40)}"`, "e.g. --min-support 0.7 (stricter) or 0.3 (answers more, wrong more often)");
  return p;
}

/** An extractive answer for people: the text, the mode, what a follow-up was searched as, the citations. */
export function printExtractiveAnswer(a: GroundedAnswer): void {
  process.stdout.write(`${a.answer}\n\n`);
  process.stdout.write(`mode: extractive (no language model; sentences quoted from the sources)${a.supported ? "" : ` — not found: ${a.abstentionDetail ?? a.abstention}`}\n`);
  if (a.trace.condensed?.method === "terms") process.stdout.write(`searched as: ${a.trace.condensed.query} (a follow-up: the previous question's words carried over)\n`);
  printCitations(a);
  printGuardrails(a);
}

function printGuardrails(a: GroundedAnswer): void {
  if (!a.guardrails) return;
  const found = a.guardrails.findings.map((f) => f.message).join("; ");
  process.stdout.write(`guardrails: ${a.guardrails.on.join(", ")}${found ? ` (${found})` : ""}\n`);
}

function printCitations(a: GroundedAnswer): void {
  for (const c of a.citations) {
    process.stdout.write(`[${c.n}] ${c.docId} ${c.source}${c.page ? ` p. ${c.page}` : ""} chars ${c.start}–${c.end}: "${c.quote}"\n`);
  }
}

const ABSTENTION: Record<string, string> = {
  "no-sources": "nothing you may read matches the question",
  "model-declined": "the model found no answer in the sources",
  "no-supported-sentence": "no sentence of the model's answer is supported by the sources it cites",
};

/**
 * A model's answer for people: the text (already on screen when streamed), which sentences the
 * sources do not support and why, the verified citations, tokens, cost and the trace id.
 */
export function printModelAnswer(a: GroundedAnswer, o: { streamed: boolean; kb: string }): void {
  const out = (s: string): boolean => process.stdout.write(s);
  if (o.streamed) out("\n\n");
  const changed = !a.supported || a.sentences.some((s) => s.removed);
  if (!o.streamed || changed) out(`${o.streamed ? "verified answer: " : ""}${a.answer}\n\n`);
  if (a.abstention) out(`not found: ${ABSTENTION[a.abstention] ?? a.abstention}\n`);
  const c = a.trace?.condensed;
  if (c && c.method !== "none") out(`searched as: ${c.rewritten ?? c.query} (a follow-up, made standalone ${c.method === "model" ? "by the model" : "with the previous question's words"})\n`);
  a.sentences.forEach((s, i) => {
    if (s.supported) return;
    out(`${s.removed ? "removed" : "unsupported"}: sentence ${i + 1} "${s.text}" — ${s.reason ?? s.verdict}\n`);
  });
  const checked = a.sentences.length;
  out(`mode: generative (model ${a.model ?? "?"}; ${a.sentences.filter((s) => s.supported).length} of ${checked} sentences supported by the sources they cite)\n`);
  printCitations(a);
  const u = a.usage;
  if (u) out(`tokens: ${u.inputTokens} in, ${u.outputTokens} out${u.estimated ? " (estimated)" : ""}${u.costUsd !== undefined ? ` · cost $${u.costUsd.toFixed(6)}` : ""}\n`);
  printGuardrails(a);
  if (a.traceId) out(`trace: ${a.traceId} (strata trace ${a.traceId} --kb ${o.kb})\n`);
}
