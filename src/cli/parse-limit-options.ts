// The parse-limit flags, shared by `strata ingest` and `strata serve` (uploads); the limits, their
// defaults and meaning live in knowledge/loaders/parse-limits.ts.
import type { Command } from "commander";
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from "../knowledge/loaders/parse-limits.js";
import { parseByteSize, parsePositiveInt } from "./options.js";

export interface ParseLimitFlags {
  maxInflatedSize?: string;
  maxChars?: string;
  maxChunks?: string;
  maxDepth?: string;
  maxPdfPages?: string;
  parseTimeout?: string;
}

const d = DEFAULT_PARSE_LIMITS;

export function addParseLimitOptions(cmd: Command): Command {
  return cmd
    .option("--max-inflated-size <size>", `largest decompressed archive member (DOCX part, .gz payload; default ${d.maxInflatedBytes / 1024 ** 2}MB; an archive may inflate to twice that)`)
    .option("--max-chars <n>", `most characters extracted from one document (default ${d.maxChars})`)
    .option("--max-chunks <n>", `most chunks per document (default ${d.maxChunks})`)
    .option("--max-depth <n>", `deepest HTML/XML/JSON nesting (default ${d.maxDepth})`)
    .option("--max-pdf-pages <n>", `most pages per PDF (default ${d.maxPdfPages})`)
    .option("--parse-timeout <seconds>", `longest time to parse one file (default ${d.parseTimeoutMs / 1000})`);
}

export function parseLimitsFromFlags(f: ParseLimitFlags): Partial<ParseLimits> {
  const inflated = parseByteSize("--max-inflated-size", f.maxInflatedSize, d.maxInflatedBytes);
  return {
    maxInflatedBytes: inflated,
    maxArchiveBytes: Math.max(d.maxArchiveBytes, 2 * inflated),
    maxChars: parsePositiveInt("--max-chars", f.maxChars, d.maxChars, 1e10),
    maxChunks: parsePositiveInt("--max-chunks", f.maxChunks, d.maxChunks, 1e9),
    maxDepth: parsePositiveInt("--max-depth", f.maxDepth, d.maxDepth, 1e6),
    maxPdfPages: parsePositiveInt("--max-pdf-pages", f.maxPdfPages, d.maxPdfPages, 1e7),
    parseTimeoutMs: parsePositiveInt("--parse-timeout", f.parseTimeout, d.parseTimeoutMs / 1000, 86_400) * 1000,
  };
}
