import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { Option, type Command } from "commander";
import { answerGuards } from "../../agents/guardrails/answer-guards.js";
import { isStrataError } from "../../core/errors.js";
import type { GroundedAnswer } from "../../knowledge/answer/types.js";
import { chatTurn, conversationHistory, extractiveChatTurn } from "../../knowledge/conversations.js";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import type { Access } from "../../knowledge/store/access.js";
import { createLanguageModel } from "../../model/registry.js";
import { EXIT, usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parseAccess, parseList, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";
import { addGuardrailRunOptions, type GuardrailRunFlags } from "./guardrails.js";
import { modelAnswerOptions, printExtractiveAnswer, printModelAnswer, type ModelAnswerFlags } from "./ask.js";

interface ChatFlags extends ModelAnswerFlags, GuardrailRunFlags {
  kb?: string;
  model?: string;
  session?: string;
  as?: string;
  groups?: string;
  tags?: string;
  k?: string;
  history?: boolean;
  json?: boolean;
}

const HELP = `
Questions are read line by line from stdin (a prompt on a terminal; piped input works too); each is
answered like \`strata ask --model\`, with the session's recent turns in the prompt, and stored in the
knowledge base under the session id. A follow-up ("and how long?") is first rewritten by the model
into a standalone question for retrieval (shown in the trace); without --model answers are
extractive and a follow-up carries the previous question's content words into the search. A session belongs to the user who started it (--as, or the
store's owner). Type /exit or end the input (Ctrl-D) to stop.

Examples:
  strata chat --kb ./kb --model openai:http://127.0.0.1:11434/v1#llama3 --session visit --as guest
  printf 'When do lantern walks start?\\nAnd where?\\n' | strata chat --kb ./kb --model gguf:./chat.gguf --json
  strata chat --kb ./kb --session visit --as guest --history`;

// Mistakes in one question (empty, too long) end that turn only; anything else ends the chat.
const TURN_ERRORS = new Set(["EMPTY_QUESTION", "QUESTION_TOO_LONG", "GUARDRAIL_BLOCKED"]);

export function registerChat(program: Command): void {
  const cmd = program
    .command("chat")
    .description("a conversation with a knowledge base: grounded, cited answers that remember the session")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--model <ref>", "language model, e.g. openai:http://127.0.0.1:11434/v1#llama3 or gguf:./models/chat.gguf (without: extractive answers)")
    .option("--session <id>", "session to start or continue (default: a new one, printed on stderr)")
    .option("--as <user>", "chat as this user (default: the store's owner, who sees everything)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--tags <tags>", "only documents with one of these tags")
    .option("-k, --k <n>", "chunks to retrieve per question (default 8)")
    .addOption(new Option("--verify <how>", "what to do with unsupported sentences (default flag)").choices(["flag", "remove"]))
    .option("--context-tokens <n>", "most tokens of the model's window to use (default: the model's window)")
    .option("--max-tokens <n>", "tokens kept for each answer (default 512)")
    .option("--history", "print the session's stored turns instead of chatting (needs --session)")
    .option("--json", "print one JSON document at the end: {session, turns:[answer, …]} (with --history: the stored turns)")
    .addHelpText("after", HELP);
  addGuardrailRunOptions(cmd)
    .action(withCommand(async (flags: ChatFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      if (flags.history) return showHistory(flags, access, ctx);
      if (!flags.model) {
        const stray = (["verify", "contextTokens", "maxTokens"] as const).find((f) => flags[f] !== undefined);
        if (stray) throw usageError(`--${stray.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} needs --model <ref>`, "add a language model, or leave the flag out for extractive answers");
      }
      const k = parsePositiveInt("-k", flags.k, 8, 100);
      const options = modelAnswerOptions(flags);
      const session = flags.session ?? `chat-${randomBytes(4).toString("hex")}`;
      // Without --model every turn is extractive (quoted sentences); follow-ups still carry the previous question.
      const model = flags.model ? await createLanguageModel(flags.model, providerOptions()) : undefined;
      try {
        const kb = KnowledgeBase.open(requireKb(flags.kb), {});
        try {
          if (!flags.session) process.stderr.write(`session: ${session} (continue it with --session ${session})\n`);
          const turns: GroundedAnswer[] = [];
          let failed = 0;
          const interactive = Boolean(process.stdin.isTTY) && !flags.json;
          const streaming = Boolean(process.stdout.isTTY) && !flags.json;
          const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
          const stop = (): void => rl.close();
          ctx.signal.addEventListener("abort", stop, { once: true });
          // On a terminal readline takes Ctrl-C itself (raw mode): it cancels a running turn and ends the chat.
          const interrupt = new AbortController();
          const signal = AbortSignal.any([ctx.signal, interrupt.signal]);
          rl.on("SIGINT", () => {
            interrupt.abort();
            rl.close();
          });
          try {
            rl.setPrompt("you> ");
            if (interactive) rl.prompt();
            for await (const line of rl) {
              const question = line.trim();
              if (question === "/exit" || question === "/quit") break;
              if (question !== "") {
                try {
                  const filter = { tags: parseList(flags.tags) };
                  const guards = answerGuards(kb.guardrails(), flags);
                  const a = model
                    ? await chatTurn(kb, session, question, { model, access, k, filter, ...options, guards, onDelta: streaming ? (d) => process.stdout.write(d) : undefined, signal })
                    : await extractiveChatTurn(kb, session, question, { access, k, filter, guards });
                  turns.push(a);
                  if (!flags.json) {
                    if (model) printModelAnswer(a, { streamed: streaming, kb: flags.kb! });
                    else printExtractiveAnswer(a);
                    process.stdout.write("\n");
                  }
                } catch (e) {
                  if (!isStrataError(e) || !TURN_ERRORS.has(e.code)) throw e;
                  failed++;
                  process.stderr.write(`error: ${e.message}\nhint: ${e.hint}\n`);
                }
              }
              if (interactive) rl.prompt();
            }
          } finally {
            ctx.signal.removeEventListener("abort", stop);
            rl.close();
          }
          if (flags.json) ctx.printJson({ session, turns });
          return failed > 0 ? EXIT.partial : EXIT.ok;
        } finally {
          kb.close();
        }
      } finally {
        await model?.close();
      }
    }));
}

async function showHistory(flags: ChatFlags, access: Access, ctx: CommandContext): Promise<number> {
  if (!flags.session) throw usageError("--history needs --session <id>", "e.g. strata chat --kb ./kb --session visit --history");
  if (flags.model) throw usageError("--history reads the stored session and takes no --model", "leave out --model");
  const kb = KnowledgeBase.open(requireKb(flags.kb), {});
  try {
    const h = conversationHistory(kb, flags.session, access);
    if (flags.json) {
      ctx.printJson({ session: h.session.id, owner: h.session.owner, createdAt: h.session.createdAt, updatedAt: h.session.updatedAt, turns: h.turns });
      return 0;
    }
    process.stdout.write(`session ${h.session.id} · ${h.turns.length} turns · started ${h.session.createdAt}\n`);
    for (const t of h.turns) {
      process.stdout.write(`\n[${t.askedAt}] you: ${t.question}\nanswer: ${t.answer}\n`);
      for (const c of t.citations) process.stdout.write(`  [${c.n}] ${c.docId} ${c.source} chars ${c.start}–${c.end}: "${c.quote}"\n`);
      if (t.traceId) process.stdout.write(`  trace: ${t.traceId}\n`);
    }
    return 0;
  } finally {
    kb.close();
  }
}
