// The chat template: ChatML. A conversation renders as
//
//   <|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n
//
// and, with `addGenerationPrompt`, ends with `<|im_start|>assistant\n` so the model writes the
// reply and closes it with <|im_end|>. The same text comes from the Jinja template written into
// GGUF's `tokenizer.chat_template` (llama.cpp and node-llama-cpp render it; llama.cpp also
// recognises it as ChatML). BOS is not part of the text: whoever tokenizes adds it, as llama.cpp
// does when `tokenizer.ggml.add_bos_token` is true.
//
// Token ids: the markers are special tokens; a message's role and content are ordinary text, so a
// message that contains "<|im_end|>" cannot end its turn early (llama.cpp, which tokenizes the
// rendered string with special tokens parsed, would read such a message differently; for the
// messages without special-token strings that real conversations have, the ids are the same).
import { StrataError } from "../core/errors.js";
import type { SpecialTokens } from "./special.js";

export const CHAT_ROLES = ["system", "user", "assistant", "tool"] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatTemplateOptions {
  /** End with the start of an assistant turn, for generation (default false). */
  addGenerationPrompt?: boolean;
  /** Start the ids with BOS (default: the tokenizer's addBosToken). Token ids only. */
  addBos?: boolean;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  messages.forEach((m, i) => {
    if (!(CHAT_ROLES as readonly string[]).includes(m.role)) {
      throw new StrataError("USAGE", `message ${i} has role ${JSON.stringify(m.role)}`, `use one of: ${CHAT_ROLES.join(", ")}`);
    }
    if (typeof m.content !== "string") throw new StrataError("USAGE", `message ${i} has no text content`, "give every message a string content");
  });
}

export function renderChat(specials: Readonly<SpecialTokens>, messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
  checkMessages(messages);
  let s = "";
  for (const m of messages) s += `${specials.imStart}${m.role}\n${m.content}${specials.imEnd}\n`;
  if (options.addGenerationPrompt) s += `${specials.imStart}assistant\n`;
  return s;
}

/** What the template needs of a tokenizer (Tokenizer has it; named here so this file need not import tokenizer.ts, which imports this one). */
export interface ChatTemplateTokenizer {
  readonly addBosToken: boolean;
  readonly bosId: number;
  readonly imStartId: number;
  readonly imEndId: number;
  encode(text: string): number[];
}

export function applyChatTemplate(tokenizer: ChatTemplateTokenizer, messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
  checkMessages(messages);
  const ids: number[] = [];
  if (options.addBos ?? tokenizer.addBosToken) ids.push(tokenizer.bosId);
  const newline = tokenizer.encode("\n");
  for (const m of messages) {
    ids.push(tokenizer.imStartId, ...tokenizer.encode(`${m.role}\n${m.content}`), tokenizer.imEndId, ...newline);
  }
  if (options.addGenerationPrompt) ids.push(tokenizer.imStartId, ...tokenizer.encode("assistant\n"));
  return ids;
}

/** A Jinja string literal for `s` (single-quoted, backslash escapes). */
function jinjaString(s: string): string {
  return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'";
}

/**
 * The Jinja template that renders exactly `renderChat`'s text. With the default special tokens:
 *
 *   {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>' + 'assistant\n' }}{% endif %}
 */
export function chatTemplateJinja(specials: Readonly<SpecialTokens>): string {
  const start = jinjaString(specials.imStart);
  const end = jinjaString(specials.imEnd);
  return (
    `{% for message in messages %}{{ ${start} + message['role'] + '\\n' + message['content'] + ${end} + '\\n' }}{% endfor %}` +
    `{% if add_generation_prompt %}{{ ${start} + 'assistant\\n' }}{% endif %}`
  );
}
