// The tokenizer file: JSON with a format name and version, checked by Zod when read.
//
//   {
//     "format": "strata.tokenizer", "version": 1,
//     "model": "byte-level-bpe", "pretokenizer": "gpt2",
//     "vocabSize": 1024, "addBosToken": true,
//     "specialTokens": [{ "id": 1019, "kind": "bos", "content": "<|startoftext|>" }, …],
//     "merges": [[32, 116], [104, 101], …]        // token ids, in rank order
//   }
//
// Token ids follow from the merges (tokenizer.ts), so the file stores no vocabulary; `vocabSize`
// and the special tokens' ids are stored anyway and checked, so a damaged file is refused rather
// than read as a different tokenizer. A file of another format, or of a newer version, is refused
// with a clear error. Saving writes a temporary file and renames it over the target, so a crash
// leaves the old file or the new one.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { writeFileAtomic } from "../core/atomic-file.js";
import { StrataError, isStrataError } from "../core/errors.js";
import { SPECIAL_TOKEN_KINDS, type SpecialTokens } from "./special.js";
import { Tokenizer } from "./tokenizer.js";

export const TOKENIZER_FORMAT = "strata.tokenizer";
export const TOKENIZER_FORMAT_VERSION = 1;

const SpecialKind = z.enum(["bos", "eos", "pad", "imStart", "imEnd", "extra"]);

const TokenizerFileV1 = z.strictObject({
  format: z.literal(TOKENIZER_FORMAT),
  version: z.literal(1),
  model: z.literal("byte-level-bpe"),
  pretokenizer: z.literal("gpt2"),
  vocabSize: z.number().int().min(256),
  addBosToken: z.boolean(),
  specialTokens: z.array(z.strictObject({ id: z.number().int().min(0), kind: SpecialKind, content: z.string().min(1) })),
  merges: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])),
});

export type TokenizerFileV1 = z.infer<typeof TokenizerFileV1>;

/** The file's content for a tokenizer. */
export function tokenizerToJson(tokenizer: Tokenizer): TokenizerFileV1 {
  const specialTokens: TokenizerFileV1["specialTokens"] = [];
  SPECIAL_TOKEN_KINDS.forEach((kind, i) => specialTokens.push({ id: tokenizer.normalVocabSize + i, kind, content: tokenizer.specialTokens[kind] }));
  tokenizer.extraSpecialTokens.forEach((content, i) =>
    specialTokens.push({ id: tokenizer.normalVocabSize + SPECIAL_TOKEN_KINDS.length + i, kind: "extra", content }),
  );
  return {
    format: TOKENIZER_FORMAT,
    version: TOKENIZER_FORMAT_VERSION,
    model: "byte-level-bpe",
    pretokenizer: "gpt2",
    vocabSize: tokenizer.vocabSize,
    addBosToken: tokenizer.addBosToken,
    specialTokens,
    merges: tokenizer.merges.map(([a, b]) => [a, b]),
  };
}

/** The file's text: the header fields indented, one merge per line. */
export function serializeTokenizer(tokenizer: Tokenizer): string {
  const { merges, ...head } = tokenizerToJson(tokenizer);
  const headText = JSON.stringify(head, null, 2);
  const mergeLines = merges.map(([a, b]) => `    [${a}, ${b}]`).join(",\n");
  return `${headText.slice(0, -2)},\n  "merges": [\n${mergeLines}\n  ]\n}\n`;
}

/** Writes the tokenizer to `path` atomically (temporary file, then rename). */
export async function saveTokenizer(tokenizer: Tokenizer, path: string): Promise<void> {
  await writeFileAtomic(path, serializeTokenizer(tokenizer), { what: "the tokenizer", hint: "check that the folder exists and is writable" });
}

/** Reads a tokenizer file; `source` names it in errors. */
export function parseTokenizer(data: unknown, source: string): Tokenizer {
  const invalid = (what: string): StrataError =>
    new StrataError("TOKENIZER_INVALID", `${source} is not a valid tokenizer file: ${what}`, "train the tokenizer again, or point to the file that `strata train tokenizer` wrote");
  if (typeof data !== "object" || data === null || Array.isArray(data) || (data as { format?: unknown }).format !== TOKENIZER_FORMAT) {
    throw new StrataError(
      "TOKENIZER_INVALID",
      `${source} is not a Strata tokenizer file (it has no "format": "${TOKENIZER_FORMAT}")`,
      "Strata reads only tokenizers it trained (`strata train tokenizer`); other formats, such as Hugging Face's tokenizer.json, are not read",
    );
  }
  const version = (data as { version?: unknown }).version;
  if (typeof version === "number" && Number.isInteger(version) && version > TOKENIZER_FORMAT_VERSION) {
    throw new StrataError(
      "TOKENIZER_TOO_NEW",
      `${source} is a tokenizer file of format version ${version}; this Strata reads version ${TOKENIZER_FORMAT_VERSION}`,
      "upgrade Strata to read it",
    );
  }
  if (version !== TOKENIZER_FORMAT_VERSION) throw invalid(`unknown format version ${JSON.stringify(version)}`);
  const parsed = TokenizerFileV1.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.length ? issue.path.join(".") : "(top level)"}: ${issue.message}`);
  }
  const file = parsed.data;

  const specials = file.specialTokens;
  const kinds = specials.map((s) => s.kind);
  const fixed = kinds.slice(0, SPECIAL_TOKEN_KINDS.length);
  if (fixed.join() !== SPECIAL_TOKEN_KINDS.join() || kinds.slice(SPECIAL_TOKEN_KINDS.length).some((k) => k !== "extra")) {
    throw invalid(`special tokens must be ${SPECIAL_TOKEN_KINDS.join(", ")} in that order, then extras`);
  }
  const specialTokens = Object.fromEntries(specials.slice(0, SPECIAL_TOKEN_KINDS.length).map((s) => [s.kind, s.content])) as unknown as SpecialTokens;
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer({
      merges: file.merges,
      specialTokens,
      extraSpecialTokens: specials.slice(SPECIAL_TOKEN_KINDS.length).map((s) => s.content),
      addBosToken: file.addBosToken,
    });
  } catch (e) {
    if (isStrataError(e)) throw invalid(e.message);
    throw e;
  }
  if (tokenizer.vocabSize !== file.vocabSize) throw invalid(`its merges make ${tokenizer.vocabSize} tokens, but it says vocabSize ${file.vocabSize}`);
  specials.forEach((s, i) => {
    if (s.id !== tokenizer.normalVocabSize + i) throw invalid(`special token ${JSON.stringify(s.content)} has id ${s.id}, expected ${tokenizer.normalVocabSize + i}`);
  });
  return tokenizer;
}

export async function loadTokenizer(path: string): Promise<Tokenizer> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new StrataError("NOT_FOUND", `tokenizer file ${path} does not exist`, "check the path, or train one with `strata train tokenizer`");
    throw new StrataError("UNREADABLE", `tokenizer file ${path} cannot be read: ${(e as Error).message}`, "check the path and its permissions", { cause: e });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new StrataError("TOKENIZER_INVALID", `${path} is not a tokenizer file (not JSON: ${(e as Error).message})`, "point to the JSON file that `strata train tokenizer` wrote", { cause: e });
  }
  return parseTokenizer(data, path);
}
