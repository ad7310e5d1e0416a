// Model reference strings: `gguf:<path>[#key=value&…]`, `openai:<baseURL>#<model>`,
// `builtin:<run dir>`. Parsing is separate from creating, so errors name the exact problem.
import { StrataError } from "../core/errors.js";

export type ModelScheme = "gguf" | "openai" | "builtin";

export interface ModelRef {
  scheme: ModelScheme;
  /** Path for gguf/builtin, base URL for openai. */
  target: string;
  /** For openai: the model name after '#'. */
  model?: string;
  /** For gguf: key=value options after '#'. */
  options: Record<string, string>;
  raw: string;
}

const SCHEMES: readonly ModelScheme[] = ["gguf", "openai", "builtin"];

const EXAMPLES = "gguf:./models/model.gguf, openai:http://127.0.0.1:11434/v1#llama3, builtin:./runs/tiny";

export function parseModelRef(raw: string): ModelRef {
  const m = /^([a-z]+):(.+)$/s.exec(raw.trim());
  if (!m) throw new StrataError("USAGE", `"${raw}" is not a model reference`, `use <scheme>:<target>, e.g. ${EXAMPLES}`);
  const scheme = m[1] as ModelScheme;
  if (!SCHEMES.includes(scheme)) throw new StrataError("USAGE", `unknown model scheme "${m[1]}:" in "${raw}"`, `use one of ${SCHEMES.map((s) => s + ":").join(", ")} — e.g. ${EXAMPLES}`);
  const rest = m[2]!;
  const hash = rest.lastIndexOf("#");
  const target = hash >= 0 ? rest.slice(0, hash) : rest;
  const fragment = hash >= 0 ? rest.slice(hash + 1) : "";
  if (!target) throw new StrataError("USAGE", `model reference "${raw}" has no ${scheme === "openai" ? "base URL" : "path"}`, `e.g. ${EXAMPLES}`);
  if (scheme === "openai") {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new StrataError("USAGE", `"${target}" in "${raw}" is not a URL`, "e.g. openai:http://127.0.0.1:11434/v1#llama3");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new StrataError("USAGE", `"${target}" must be an http(s) URL`, "e.g. openai:https://api.openai.com/v1#gpt-4o-mini");
    if (!fragment) throw new StrataError("USAGE", `"${raw}" names no model`, "add #<model> after the URL, e.g. openai:http://127.0.0.1:11434/v1#llama3");
    return { scheme, target: target.replace(/\/+$/, ""), model: fragment, options: {}, raw };
  }
  const options: Record<string, string> = {};
  for (const pair of fragment.split("&").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new StrataError("USAGE", `option "${pair}" in "${raw}" is not key=value`, "e.g. gguf:./model.gguf#ctx=4096&threads=2");
    options[pair.slice(0, eq)] = decodeURIComponent(pair.slice(eq + 1));
  }
  return { scheme, target, options, raw };
}
