// A vocabulary as GGUF files describe it (`tokenizer.ggml.*`), independent of the file format: the
// tokens with their scores and types, the BPE merges, the special ids and the encoding switches.
// src/formats/gguf reads it from a file; vocab-tokenizer.ts turns it into a tokenizer.

/** `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type). */
export const TOKEN_TYPE = { undefined: 0, normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** The tokenizer models the engine reads: SentencePiece ("llama") and GPT-2 byte-level BPE ("gpt2"). */
export const VOCAB_MODELS = ["llama", "gpt2"] as const;
export type VocabModel = (typeof VOCAB_MODELS)[number];

/** `tokenizer.ggml.pre` values the engine splits text for (as llama.cpp does for these names). */
export const PRE_TOKENIZERS = ["default", "llama-bpe", "llama3", "llama-v3", "qwen2", "smollm", "gpt-2"] as const;
export type PreTokenizerName = (typeof PRE_TOKENIZERS)[number];

export interface VocabSpec {
  model: VocabModel;
  /** For "gpt2": how text is split before merging (default "default", as llama.cpp when the key is absent). */
  pre?: PreTokenizerName;
  tokens: readonly string[];
  /** SentencePiece merge priorities (higher merges first); absent for BPE. */
  scores?: readonly number[];
  /** TOKEN_TYPE per token (all normal when absent). */
  types?: readonly number[];
  /** BPE merges "left right", highest priority first. */
  merges?: readonly string[];
  bosId?: number;
  eosId?: number;
  unkId?: number;
  padId?: number;
  /** End-of-turn token (Llama 3's <|eot_id|>, ChatML's <|im_end|>). */
  eotId?: number;
  addBos?: boolean;
  addEos?: boolean;
  /** SentencePiece: prefix raw text with a space (llama.cpp's default for "llama" vocabularies). */
  addSpacePrefix?: boolean;
  /** `tokenizer.chat_template` (Jinja). */
  chatTemplate?: string;
}
