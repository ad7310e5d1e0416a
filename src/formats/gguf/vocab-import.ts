// The vocabulary of a downloaded GGUF model (`tokenizer.ggml.*`) as a VocabTokenizer: SentencePiece
// ("llama": tokens, scores, types) or GPT-2 byte-level BPE ("gpt2": tokens, types, merges, and the
// pre-tokenizer name), the special ids, add_bos/add_eos/add_space_prefix and the chat template.
import { StrataError } from "../../core/errors.js";
import { PRE_TOKENIZERS, VOCAB_MODELS, type PreTokenizerName, type VocabModel, type VocabSpec } from "../../tokenizer/vocab.js";
import { VocabTokenizer } from "../../tokenizer/vocab-tokenizer.js";
import { metaBool, metaNumber, metaNumberArray, metaString, metaStringArray } from "./metadata.js";
import type { GgufMetadata } from "./types.js";

const HINT = "run this file with llama.cpp instead (a gguf: model reference)";

/** The VocabSpec a file's metadata describes; a clear TOKENIZER_INVALID error when it cannot be read. */
export function vocabSpecFromGguf(meta: GgufMetadata, source: string): VocabSpec {
  const fail = (what: string, hint = HINT): StrataError => new StrataError("TOKENIZER_INVALID", `${source}: ${what}`, hint);
  const model = metaString(meta, "tokenizer.ggml.model", source);
  if (!model) throw fail("the file has no tokenizer.ggml.model", "the file holds no vocabulary; convert the model again with llama.cpp");
  if (!(VOCAB_MODELS as readonly string[]).includes(model)) throw fail(`the tokenizer model "${model}" is not one Strata's engine reads (${VOCAB_MODELS.join(", ")})`);
  const tokens = metaStringArray(meta, "tokenizer.ggml.tokens", source);
  if (!tokens || tokens.length === 0) throw fail("tokenizer.ggml.tokens is missing or empty");
  const pre = metaString(meta, "tokenizer.ggml.pre", source);
  if (model === "gpt2" && pre !== undefined && !(PRE_TOKENIZERS as readonly string[]).includes(pre)) {
    throw fail(`the pre-tokenizer "${pre}" is not one Strata's engine implements (${PRE_TOKENIZERS.join(", ")})`);
  }
  const id = (key: string): number | undefined => {
    const v = metaNumber(meta, `tokenizer.ggml.${key}`, source);
    return v === undefined || v < 0 || v >= tokens.length ? undefined : v; // llama.cpp ignores ids outside the vocabulary
  };
  const spec: VocabSpec = { model: model as VocabModel, tokens };
  if (model === "gpt2") spec.pre = (pre ?? "default") as PreTokenizerName;
  const scores = metaNumberArray(meta, "tokenizer.ggml.scores", source);
  if (scores) spec.scores = scores;
  const types = metaNumberArray(meta, "tokenizer.ggml.token_type", source);
  if (types) spec.types = types;
  const merges = metaStringArray(meta, "tokenizer.ggml.merges", source);
  if (merges) spec.merges = merges;
  if (model === "gpt2" && !merges) throw fail("a gpt2 vocabulary without tokenizer.ggml.merges");
  const ids = { bosId: id("bos_token_id"), eosId: id("eos_token_id"), unkId: id("unknown_token_id"), padId: id("padding_token_id"), eotId: id("eot_token_id") };
  for (const [k, v] of Object.entries(ids)) if (v !== undefined) (spec as unknown as Record<string, number>)[k] = v;
  const addBos = metaBool(meta, "tokenizer.ggml.add_bos_token", source) ?? (model === "gpt2" && ["llama-bpe", "llama3", "llama-v3"].includes(spec.pre ?? "") ? true : undefined);
  if (addBos !== undefined) spec.addBos = addBos;
  const addEos = metaBool(meta, "tokenizer.ggml.add_eos_token", source);
  if (addEos !== undefined) spec.addEos = addEos;
  const prefix = metaBool(meta, "tokenizer.ggml.add_space_prefix", source);
  if (prefix !== undefined) spec.addSpacePrefix = prefix;
  const template = metaString(meta, "tokenizer.chat_template", source);
  if (template) spec.chatTemplate = template;
  return spec;
}

export function vocabTokenizerFromGguf(meta: GgufMetadata, source: string): VocabTokenizer {
  const spec = vocabSpecFromGguf(meta, source);
  try {
    return new VocabTokenizer(spec);
  } catch (e) {
    if (e instanceof StrataError) throw new StrataError(e.code, `${source}: ${e.message}`, e.hint);
    throw e;
  }
}
