// Chat templates of GGUF files (`tokenizer.chat_template`, Jinja) rendered with @huggingface/jinja,
// the implementation node-llama-cpp also uses. The context is the one Hugging Face's
// apply_chat_template gives: messages, add_generation_prompt, bos_token, eos_token (raise_exception
// and strftime_now are the library's built-ins).
import { Template } from "@huggingface/jinja";
import { StrataError } from "../core/errors.js";
import type { ChatMessage } from "./chat.js";

export interface JinjaChatOptions {
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
}

const compiled = new Map<string, Template>();

export function renderJinjaChat(source: string, messages: readonly ChatMessage[], options: JinjaChatOptions = {}): string {
  let template = compiled.get(source);
  try {
    if (!template) {
      template = new Template(source);
      if (compiled.size > 16) compiled.clear();
      compiled.set(source, template);
    }
    return template.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: options.bosToken ?? "",
      eos_token: options.eosToken ?? "",
    });
  } catch (e) {
    throw new StrataError(
      "USAGE",
      `the model's chat template cannot format this conversation: ${(e as Error).message}`,
      "check the roles and their order (many templates want user and assistant turns to alternate, some refuse system messages), or format the prompt yourself and use completion",
    );
  }
}
