// The tokenizer as GGUF metadata for llama.cpp's `gpt2` (byte-level BPE) tokenizer. This module
// only builds the values; src/formats/gguf writes them, with the value types given below.
//
// What llama.cpp reads: `tokens` are the tokens' texts (bytes through GPT-2's byte-to-unicode map,
// special tokens as their strings), all distinct; `token_type` is 1 (normal) for bytes and learned
// tokens and 3 (control) for special tokens, which llama.cpp then never produces from plain text
// and renders as empty text unless asked; `merges` are "left right" in rank order, the two texts
// separated by one space (mapped texts never contain a space: space is `Ġ`). `<|im_end|>` is also
// the end-of-turn token, so generation stops at the end of an assistant turn as well as at EOS.
//
// `pre` picks llama.cpp's pre-tokeniser. Measured with the llama.cpp in node-llama-cpp 3.22.1 on
// tinyshakespeare and 3,000 random Unicode strings: "gpt-2" splits exactly as we do (same ids), but
// llama.cpp then "cleans up tokenization spaces" when it turns tokens back into text, deleting the
// space before ' , . ? ! and in " n't" (so "in 's" comes back "in's"): generated text would differ
// from ours. "trillion" selects the same GPT-2 split with that clean-up off: same ids and the exact
// text back. It is the default; "gpt-2" remains for llama.cpp builds older than mid-2025, which
// refuse a `pre` they do not know.

/** llama.cpp pre-tokeniser names that run GPT-2's split (see above for the difference). */
export type GgufPreTokenizer = "trillion" | "gpt-2";
export const DEFAULT_GGUF_PRE_TOKENIZER: GgufPreTokenizer = "trillion";

export interface GgufTokenizerOptions {
  /** `tokenizer.ggml.pre` (default "trillion": llama.cpp gives back the exact text). */
  pre?: GgufPreTokenizer;
}

/** llama.cpp's token types (llama_token_type). */
export const GGUF_TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface GgufTokenizerMetadata {
  "tokenizer.ggml.model": "gpt2";
  "tokenizer.ggml.pre": GgufPreTokenizer;
  "tokenizer.ggml.tokens": string[];
  "tokenizer.ggml.token_type": number[];
  "tokenizer.ggml.merges": string[];
  "tokenizer.ggml.bos_token_id": number;
  "tokenizer.ggml.eos_token_id": number;
  "tokenizer.ggml.eot_token_id": number;
  "tokenizer.ggml.padding_token_id": number;
  "tokenizer.ggml.add_bos_token": boolean;
  "tokenizer.ggml.add_eos_token": boolean;
  "tokenizer.chat_template": string;
}

/** The GGUF value type of each key (as named in src/formats/gguf), for the writer. */
export const GGUF_TOKENIZER_VALUE_TYPES = {
  "tokenizer.ggml.model": "string",
  "tokenizer.ggml.pre": "string",
  "tokenizer.ggml.tokens": "array:string",
  "tokenizer.ggml.token_type": "array:int32",
  "tokenizer.ggml.merges": "array:string",
  "tokenizer.ggml.bos_token_id": "uint32",
  "tokenizer.ggml.eos_token_id": "uint32",
  "tokenizer.ggml.eot_token_id": "uint32",
  "tokenizer.ggml.padding_token_id": "uint32",
  "tokenizer.ggml.add_bos_token": "bool",
  "tokenizer.ggml.add_eos_token": "bool",
  "tokenizer.chat_template": "string",
} as const satisfies Record<keyof GgufTokenizerMetadata, string>;

/** What the metadata is read from (Tokenizer has it; named here so this file need not import tokenizer.ts, which imports this one). */
export interface GgufTokenizerSource {
  readonly vocabSize: number;
  readonly merges: ReadonlyArray<readonly [number, number]>;
  readonly bosId: number;
  readonly eosId: number;
  readonly imEndId: number;
  readonly padId: number;
  readonly addBosToken: boolean;
  tokenText(id: number): string;
  isSpecial(id: number): boolean;
  chatTemplate(): string;
}

export function toGgufTokenizerMetadata(tokenizer: GgufTokenizerSource, options: GgufTokenizerOptions = {}): GgufTokenizerMetadata {
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    tokens.push(tokenizer.tokenText(id));
    types.push(tokenizer.isSpecial(id) ? GGUF_TOKEN_TYPE.control : GGUF_TOKEN_TYPE.normal);
  }
  return {
    "tokenizer.ggml.model": "gpt2",
    "tokenizer.ggml.pre": options.pre ?? DEFAULT_GGUF_PRE_TOKENIZER,
    "tokenizer.ggml.tokens": tokens,
    "tokenizer.ggml.token_type": types,
    "tokenizer.ggml.merges": tokenizer.merges.map(([a, b]) => `${tokenizer.tokenText(a)} ${tokenizer.tokenText(b)}`),
    "tokenizer.ggml.bos_token_id": tokenizer.bosId,
    "tokenizer.ggml.eos_token_id": tokenizer.eosId,
    "tokenizer.ggml.eot_token_id": tokenizer.imEndId,
    "tokenizer.ggml.padding_token_id": tokenizer.padId,
    "tokenizer.ggml.add_bos_token": tokenizer.addBosToken,
    "tokenizer.ggml.add_eos_token": false,
    "tokenizer.chat_template": tokenizer.chatTemplate(),
  };
}
