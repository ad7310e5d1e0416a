// Fine-tuning datasets on disk: JSONL (one JSON object a line) or a JSON array of objects (how
// Stanford Alpaca ships), in the common shapes, each read into one normalized record:
//
//   {"messages": [{"role", "content"}, ...]}            chat → sft (the last turn must be the assistant's)
//   {"prompt": "...", "completion": "..."}               → sft: user prompt, assistant completion
//   {"instruction", "input"?, "output"}                  Alpaca → sft: user "instruction\n\ninput", assistant output
//   {"prompt", "chosen", "rejected"}                     preference pair; prompt a string or messages,
//   {"messages"|"prompt": [...], "chosen", "rejected"}   chosen/rejected a string or an assistant message list
//
// Every record is checked with zod; the first bad one is refused naming its line (record number for a
// JSON array) and field. A file mixes no kinds (all sft or all preference), and a pair whose chosen
// equals its rejected is refused: it carries no preference.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { StrataError } from "../core/errors.js";
import { CHAT_ROLES, type ChatMessage } from "../tokenizer/index.js";

export interface SftRecord {
  kind: "sft";
  /** 1-based line (JSONL) or record number (JSON array). */
  line: number;
  messages: ChatMessage[];
}

export interface PreferenceRecord {
  kind: "preference";
  line: number;
  /** The conversation before the answer (ends with a user turn). */
  prompt: ChatMessage[];
  chosen: string;
  rejected: string;
}

export type InstructionRecord = SftRecord | PreferenceRecord;

export interface InstructionDataset {
  kind: "sft" | "preference";
  records: InstructionRecord[];
  /** "jsonl" or "json-array". */
  layout: "jsonl" | "json-array";
  /** Blank lines skipped (JSONL). */
  blankLines: number;
}

const text = z.string().min(1, "must not be empty");
const Message = z.object({ role: z.enum(CHAT_ROLES), content: z.string() }).strict();
const Messages = z.array(Message).min(1, "must hold at least one message");
const Answer = z.union([text, z.array(Message).length(1, "must be one assistant message")]);

const ChatShape = z.object({ messages: Messages }).passthrough();
const PromptCompletion = z.object({ prompt: text, completion: text }).passthrough();
const Alpaca = z.object({ instruction: text, input: z.string().optional(), output: text }).passthrough();
const Preference = z.object({ prompt: z.union([text, Messages]).optional(), messages: Messages.optional(), chosen: Answer, rejected: Answer }).passthrough();

function issueText(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `field ${i.path.length ? i.path.join(".") : "(record)"}: ${i.message}`;
}

const HINT =
  'each record is {"messages": [{"role": "user", "content": …}, {"role": "assistant", "content": …}]}, {"prompt", "completion"}, {"instruction", "input", "output"} or {"prompt", "chosen", "rejected"}';

function bad(source: string, where: string, why: string): StrataError {
  return new StrataError("DATASET_INVALID", `${source} ${where}: ${why}`, HINT);
}

function answerText(a: z.infer<typeof Answer>, source: string, where: string, field: string): string {
  if (typeof a === "string") return a;
  const m = a[0]!;
  if (m.role !== "assistant") throw bad(source, where, `field ${field}.0.role: must be "assistant" (got "${m.role}")`);
  if (m.content.length === 0) throw bad(source, where, `field ${field}.0.content: must not be empty`);
  return m.content;
}

/** One parsed object → a record; `where` is "line N" or "record N". */
export function parseInstructionRecord(obj: unknown, line: number, source: string, where = `line ${line}`): InstructionRecord {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw bad(source, where, "is not a JSON object");
  const o = obj as Record<string, unknown>;
  const check = <T>(schema: z.ZodType<T>): T => {
    const r = schema.safeParse(o);
    if (!r.success) throw bad(source, where, issueText(r.error));
    return r.data;
  };
  if ("chosen" in o || "rejected" in o) {
    const p = check(Preference);
    const promptSrc = p.prompt ?? p.messages;
    if (promptSrc === undefined) throw bad(source, where, 'field prompt: a preference pair needs "prompt" (a string or messages) or "messages"');
    const prompt: ChatMessage[] = typeof promptSrc === "string" ? [{ role: "user", content: promptSrc }] : promptSrc;
    if (prompt[prompt.length - 1]!.role === "assistant") throw bad(source, where, "field prompt: the prompt must not end with an assistant turn (the answers are chosen/rejected)");
    const chosen = answerText(p.chosen, source, where, "chosen");
    const rejected = answerText(p.rejected, source, where, "rejected");
    if (chosen === rejected) throw new StrataError("DATASET_INVALID", `${source} ${where}: field chosen equals field rejected, so the pair states no preference`, "drop the pair or give it a different rejected answer");
    return { kind: "preference", line, prompt, chosen, rejected };
  }
  if ("messages" in o) {
    const { messages } = check(ChatShape);
    const last = messages[messages.length - 1]!;
    if (last.role !== "assistant") throw bad(source, where, `field messages.${messages.length - 1}.role: the last message must be the assistant's answer (got "${last.role}")`);
    const empty = messages.findIndex((m) => m.role === "assistant" && m.content.length === 0);
    if (empty >= 0) throw bad(source, where, `field messages.${empty}.content: an assistant turn must not be empty`);
    return { kind: "sft", line, messages };
  }
  if ("instruction" in o || "output" in o) {
    const a = check(Alpaca);
    const user = a.input && a.input.trim() !== "" ? `${a.instruction}\n\n${a.input}` : a.instruction;
    return { kind: "sft", line, messages: [{ role: "user", content: user }, { role: "assistant", content: a.output }] };
  }
  if ("prompt" in o || "completion" in o) {
    const pc = check(PromptCompletion);
    return { kind: "sft", line, messages: [{ role: "user", content: pc.prompt }, { role: "assistant", content: pc.completion }] };
  }
  throw bad(source, where, `has none of the known fields (keys: ${Object.keys(o).slice(0, 6).join(", ") || "none"})`);
}

/** Parses a dataset held in memory (JSONL, or a JSON array when the text starts with "["). */
export function parseInstructionDataset(content: string, source: string): InstructionDataset {
  const records: InstructionRecord[] = [];
  let layout: InstructionDataset["layout"] = "jsonl";
  let blankLines = 0;
  const trimmed = content.trimStart();
  if (trimmed.startsWith("[")) {
    layout = "json-array";
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      throw new StrataError("DATASET_INVALID", `${source}: starts with "[" but is not a valid JSON array (${(e as Error).message})`, "write a JSON array of records, or one JSON object per line (JSONL)");
    }
    if (!Array.isArray(arr)) throw new StrataError("DATASET_INVALID", `${source}: not a JSON array`, HINT);
    arr.forEach((o, i) => records.push(parseInstructionRecord(o, i + 1, source, `record ${i + 1}`)));
  } else {
    const lines = content.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!.trim();
      if (l === "") {
        if (i < lines.length - 1) blankLines++;
        continue;
      }
      let obj: unknown;
      try {
        obj = JSON.parse(l);
      } catch (e) {
        throw new StrataError("DATASET_INVALID", `${source} line ${i + 1}: not valid JSON (${(e as Error).message})`, "each line must be one JSON object (JSONL)");
      }
      records.push(parseInstructionRecord(obj, i + 1, source));
    }
  }
  if (records.length === 0) throw new StrataError("DATASET_EMPTY", `${source} holds no records`, "give at least one training example");
  const kind = records[0]!.kind;
  const other = records.find((r) => r.kind !== kind);
  if (other) {
    throw new StrataError("DATASET_INVALID", `${source} ${layout === "jsonl" ? "line" : "record"} ${other.line}: a ${other.kind === "sft" ? "supervised example" : "preference pair"} in a file of ${kind === "sft" ? "supervised examples" : "preference pairs"}`, "keep SFT examples and preference pairs in separate files");
  }
  return { kind, records, layout, blankLines };
}

/** Reads and parses a dataset file (UTF-8). */
export async function readInstructionDataset(path: string): Promise<InstructionDataset> {
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `dataset ${path} does not exist`, "check the --data path");
    if (code === "EISDIR") throw new StrataError("USAGE", `${path} is a folder, not a dataset file`, "name a .jsonl or .json file");
    throw new StrataError("UNREADABLE", `dataset ${path} cannot be read: ${(e as Error).message}`, "check its permissions", { cause: e });
  }
  return parseInstructionDataset(content, path);
}
