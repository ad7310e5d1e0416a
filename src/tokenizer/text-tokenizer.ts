// What the engine needs of a tokenizer, whichever kind it is: Strata's own byte-level BPE
// (tokenizer.ts) or a vocabulary read from a GGUF file (vocab-tokenizer.ts: SentencePiece or GPT-2
// BPE with llama.cpp's rules).
import type { ChatMessage, ChatTemplateOptions } from "./chat.js";

export interface TextDecoderStream {
  /** Text of these ids, holding back a character whose bytes are not all there yet. */
  push(ids: number | readonly number[]): string;
  end(): string;
}

export interface TextTokenizer {
  readonly vocabSize: number;
  /** Whether a prompt starts with BOS (the file's or training's setting). */
  readonly addBosToken: boolean;
  /** Tokens that end a generated turn (EOS, end-of-turn markers). */
  readonly endOfGenerationIds: readonly number[];
  encode(text: string, options?: { addBos?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
  decoder(options?: { skipSpecial?: boolean }): TextDecoderStream;
  /** A conversation's ids, BOS first when the tokenizer adds it, ready for generation with addGenerationPrompt. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): number[];
}
