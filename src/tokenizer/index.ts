// Byte-level BPE: train on text files, encode, decode, special tokens, the ChatML chat template,
// save/load, and GGUF metadata for llama.cpp. See README.md beside this file for the choices.
export { Tokenizer, StreamDecoder, type TokenizerSpec, type EncodeOptions, type DecodeOptions } from "./tokenizer.js";
export {
  trainTokenizer,
  trainTokenizerFromTexts,
  type TrainTokenizerOptions,
  type TrainTokenizerResult,
  type TrainTokenizerStats,
} from "./train.js";
export { readUtf8Chunks } from "./utf8-reader.js";
export { DEFAULT_SPECIAL_TOKENS, SPECIAL_TOKEN_KINDS, type SpecialTokens, type SpecialTokenKind } from "./special.js";
export { CHAT_ROLES, type ChatRole, type ChatMessage, type ChatTemplateOptions } from "./chat.js";
export {
  GGUF_TOKEN_TYPE,
  GGUF_TOKENIZER_VALUE_TYPES,
  DEFAULT_GGUF_PRE_TOKENIZER,
  type GgufTokenizerMetadata,
  type GgufTokenizerOptions,
  type GgufPreTokenizer,
} from "./gguf.js";
export {
  loadTokenizer,
  saveTokenizer,
  parseTokenizer,
  serializeTokenizer,
  tokenizerToJson,
  TOKENIZER_FORMAT,
  TOKENIZER_FORMAT_VERSION,
  type TokenizerFileV1,
} from "./file.js";
export { BYTE_TO_CHAR, bytesToMapped, mappedToBytes } from "./bytes.js";
export { pretokenize, GPT2_SPLIT_SOURCE } from "./pretokenize.js";
export { type TextTokenizer, type TextDecoderStream } from "./text-tokenizer.js";
export { VocabTokenizer, type VocabEncodeOptions } from "./vocab-tokenizer.js";
export { PRE_TOKENIZERS, TOKEN_TYPE, VOCAB_MODELS, type PreTokenizerName, type VocabModel, type VocabSpec } from "./vocab.js";
export { preTokenize } from "./bpe-vocab.js";
export { renderJinjaChat, type JinjaChatOptions } from "./jinja-chat.js";
