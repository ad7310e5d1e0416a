// JSON and JSON Lines: records become text a retriever can match. Each top-level unit (array
// element, top-level key, JSONL line) starts a new block of "path.to.key: value" lines; long
// strings (descriptions, comments) get a block of their own so they stay searchable and citable.

import { StrataError } from "../../core/errors.js";
import type { ExtractedDocument } from "../types.js";
import { assemble, collapseWhitespace, type BlockDraft } from "./blocks.js";

export const JSON_MIME = "application/json";
export const NDJSON_MIME = "application/x-ndjson";

/** Fields that name a record (an issue key, a title); they make its heading, so chunks say which record they are from. */
const ID_FIELDS = ["key", "issue_id", "id"];
const TITLE_FIELDS = ["title", "summary", "name", "subject"];

/** Strings this long, or with a line break, are prose rather than a field value. */
const LONG_STRING = 200;

export function loadJson(text: string): ExtractedDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `invalid JSON${where(text, e)}: ${shortMessage(e)}`, "fix the JSON syntax (a validator such as `jq . file.json` points at the spot)", { cause: e });
  }
  const out = new Flattener();
  if (Array.isArray(value)) value.forEach((v) => out.record(v));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) out.unit(v, key("", k));
  else out.unit(value, "");
  return assemble(out.finish(), JSON_MIME);
}

export function loadJsonLines(text: string): ExtractedDocument {
  const out = new Flattener();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new StrataError("PARSE_FAILED", `invalid JSON on line ${i + 1}: ${shortMessage(e)}`, `fix or remove line ${i + 1}; each line of a JSON Lines file must be one complete JSON value`, { cause: e });
    }
    out.record(value);
  }
  return assemble(out.finish(), NDJSON_MIME);
}

/** Collects blocks: scalar lines accumulate until a unit ends or a long string interrupts them. */
class Flattener {
  private drafts: BlockDraft[] = [];
  private lines: string[] = [];
  /** Long strings already emitted in this unit: exports often repeat a description verbatim. */
  private seen = new Set<string>();

  /** One element of a record list (array element, JSONL line), headed by its id and title. */
  record(value: unknown): void {
    if (isObject(value)) {
      const pick = (fields: string[]): string | undefined => {
        const v = fields.map((f) => value[f]).find((x) => (typeof x === "string" && x.trim() !== "" && x.length < LONG_STRING) || typeof x === "number");
        return v === undefined ? undefined : collapseWhitespace(String(v));
      };
      const heading = [pick(ID_FIELDS), pick(TITLE_FIELDS)].filter((v) => v !== undefined).join(": ");
      if (heading) {
        this.flush();
        this.drafts.push({ kind: "heading", level: 1, text: heading });
      }
    }
    this.unit(value, "");
  }

  unit(value: unknown, path: string): void {
    this.flush();
    this.seen.clear();
    this.walk(value, path);
    this.flush();
  }

  finish(): BlockDraft[] {
    this.flush();
    return this.drafts;
  }

  private walk(value: unknown, path: string): void {
    if (value === null || value === undefined) return; // absent, not text
    if (Array.isArray(value)) {
      value.forEach((v, i) => this.walk(v, `${path}[${i}]`));
    } else if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) this.walk(v, key(path, k));
    } else if (typeof value === "string") {
      const s = value.replace(/\r\n?/g, "\n").trim();
      if (s === "") return;
      if (s.length >= LONG_STRING || s.includes("\n")) {
        if (this.seen.has(s)) return;
        this.seen.add(s);
        this.flush();
        this.drafts.push({ kind: "paragraph", text: path ? `${path}: ${s}` : s });
      } else {
        this.lines.push(path ? `${path}: ${s}` : s);
      }
    } else {
      this.lines.push(path ? `${path}: ${String(value)}` : String(value));
    }
  }

  private flush(): void {
    if (this.lines.length) this.drafts.push({ kind: "paragraph", text: this.lines.join("\n") });
    this.lines = [];
  }
}

function key(path: string, k: string): string {
  return path ? `${path}.${k}` : k;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function shortMessage(e: unknown): string {
  return ((e as Error).message ?? String(e)).replace(/\s+/g, " ").slice(0, 160);
}

/** " at line L, column C" when the engine's message gives a position. */
function where(text: string, e: unknown): string {
  const m = /position (\d+)/.exec((e as Error).message ?? "");
  if (!m) return "";
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  return ` at line ${line}, column ${pos - before.lastIndexOf("\n")}`;
}
