// One way to read a JSON line of a dataset file: parse it, check it against a schema, and on any
// problem throw a one-line StrataError naming the file, the line number and the field.
import { z } from "zod";
import { StrataError } from "../core/errors.js";

export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

export function parseJsonLine<T>(schema: z.ZodType<T>, line: string, file: string, n: number, example: string): T {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new StrataError("PARSE_FAILED", `${file} line ${n}: not valid JSON (${oneLine((e as Error).message)})`, `each line must be one JSON object like ${example}; fix or remove line ${n}`);
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? `field "${issue.path.join(".")}"` : "the line";
    const why = issue ? oneLine(issue.message) : "unexpected shape";
    throw new StrataError("PARSE_FAILED", `${file} line ${n}: ${where} is invalid (${why})`, `each line must be one JSON object like ${example}; fix or remove line ${n}`);
  }
  return r.data;
}

/** Every non-blank line of a text with its 1-based number (a leading BOM dropped). */
export function* numberedLines(text: string): Generator<[string, number]> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const line = i === 0 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line.trim() !== "") yield [line, i + 1];
  }
}
