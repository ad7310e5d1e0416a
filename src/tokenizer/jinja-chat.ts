// Chat templates of GGUF files (`tokenizer.chat_template`, Jinja) rendered with @huggingface/jinja,
// the implementation node-llama-cpp also uses. The context is the one Hugging Face's
// apply_chat_template gives: messages, add_generation_prompt, bos_token, eos_token, plus
// raise_exception and strftime_now (Llama 3.x templates put today's date in the system turn).
import { Template } from "@huggingface/jinja";
import { StrataError } from "../core/errors.js";
import type { ChatMessage } from "./chat.js";

export interface JinjaChatOptions {
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
  /** Fixed "now" for strftime_now (tests); default the current time. */
  now?: Date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The strftime directives chat templates use (%d %b %Y %m %H %M %B). */
function strftime(format: string, t: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  const long = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  return format.replace(/%([dbBYmHM%])/g, (_, c: string) => {
    switch (c) {
      case "d":
        return pad(t.getDate());
      case "b":
        return MONTHS[t.getMonth()]!;
      case "B":
        return long[t.getMonth()]!;
      case "Y":
        return String(t.getFullYear());
      case "m":
        return pad(t.getMonth() + 1);
      case "H":
        return pad(t.getHours());
      case "M":
        return pad(t.getMinutes());
      default:
        return "%";
    }
  });
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
    const now = options.now ?? new Date();
    return template.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: options.bosToken ?? "",
      eos_token: options.eosToken ?? "",
      raise_exception: (message: string) => {
        throw new StrataError("USAGE", `the model's chat template refused the conversation: ${message}`, "check the roles and their order (many templates want user and assistant turns to alternate)");
      },
      strftime_now: (format: string) => strftime(format, now),
    });
  } catch (e) {
    if (e instanceof StrataError) throw e;
    throw new StrataError("TOKENIZER_INVALID", `the model's chat template cannot be rendered: ${(e as Error).message}`, "the file's tokenizer.chat_template uses Jinja this renderer lacks; format the prompt yourself and use completion");
  }
}
