// One clear StrataError per way an HTTP call to an OpenAI-compatible server can fail. Messages
// name the URL (without credentials) and the server's own words where they help; never the key.
import { z } from "zod";
import { StrataError } from "../../../core/errors.js";
import { displayUrl, redact, type OpenAiConfig } from "./config.js";

const errorBody = z.union([
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({ error: z.string() }),
  z.object({ message: z.string() }),
  z.object({ detail: z.string() }),
]);

/** The server's own explanation from an error body, in any of the shapes servers use. */
export function serverErrorMessage(bodyText: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    const text = bodyText.trim();
    return text ? text.slice(0, 300) : undefined;
  }
  const parsed = errorBody.safeParse(json);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  const message = "detail" in d ? d.detail : "message" in d ? d.message : typeof d.error === "string" ? d.error : d.error.message;
  return message.slice(0, 300);
}

/** The failure for a non-2xx answer we will not (or no longer) retry. */
export function httpStatusError(cfg: OpenAiConfig, url: string, status: number, bodyText: string, attempts: number): StrataError {
  const where = `POST ${displayUrl(url)}`;
  const said = serverErrorMessage(bodyText);
  const detail = said ? `: ${redact(said, cfg.secrets)}` : "";
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  if (status === 401 || status === 403) {
    // The server's words are left out on purpose: some echo part of the key they refused.
    return new StrataError(
      "MODEL_AUTH",
      `${where} was refused with HTTP ${status}: ${cfg.apiKey ? "the API key was not accepted" : "the server needs an API key"}`,
      cfg.apiKey ? "set STRATA_OPENAI_API_KEY to a key this server accepts" : "set STRATA_OPENAI_API_KEY (or pass apiKey) to a key for this server",
    );
  }
  if (status === 404) {
    return new StrataError(
      "MODEL_NOT_FOUND",
      `${where} returned 404 for model "${cfg.model}"${detail}`,
      `check the base URL (OpenAI-compatible APIs usually end in /v1, e.g. http://127.0.0.1:11434/v1) and the model name (GET ${displayUrl(cfg.baseUrl)}/models lists them)`,
    );
  }
  if (status === 429) {
    return new StrataError("MODEL_RATE_LIMITED", `${where} is rate limiting requests (HTTP 429)${tries}${detail}`, "wait and try again, send fewer requests at once, or raise maxRetries");
  }
  if (status >= 500) {
    return new StrataError("MODEL_SERVER_ERROR", `${where} failed with HTTP ${status}${tries}${detail}`, "check the server's log: it may be overloaded, out of memory, or unable to load the model");
  }
  return new StrataError("MODEL_BAD_REQUEST", `${where} rejected the request with HTTP ${status}${detail || " (no reason given)"}`, "fix what the server names (an unsupported option, a prompt longer than the context, a schema it cannot use)");
}

/** The innermost error code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET…) under a fetch failure. */
export function networkErrorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 6; depth++) {
    const o = cur as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof o.code === "string") return o.code;
    cur = o.cause ?? (Array.isArray(o.errors) ? o.errors[0] : undefined);
  }
  return undefined;
}

/** fetch rejects with a TypeError (cause: the socket error) when no HTTP answer came at all. */
export function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError && !(e instanceof StrataError);
}

export function networkError(cfg: OpenAiConfig, url: string, e: unknown, attempts: number): StrataError {
  const code = networkErrorCode(e);
  const base = displayUrl(cfg.baseUrl);
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  if (code === "ECONNREFUSED") {
    return new StrataError(
      "MODEL_UNREACHABLE",
      `cannot connect to ${base}: connection refused${tries}`,
      "start the model server (e.g. `ollama serve`, `llama-server -m model.gguf`, `vllm serve <model>`) or fix the base URL in the model reference",
      { cause: e },
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new StrataError("MODEL_UNREACHABLE", `cannot resolve the host of ${base} (${code})`, "fix the host name in the model reference", { cause: e });
  }
  const why = code ?? redact(e instanceof Error ? e.message : String(e), cfg.secrets);
  return new StrataError("MODEL_UNREACHABLE", `cannot reach POST ${displayUrl(url)}: ${why}${tries}`, "check that the server is running and reachable from this machine", { cause: e });
}

export function timeoutError(url: string, timeoutMs: number): StrataError {
  return new StrataError("TIMEOUT", `no answer from POST ${displayUrl(url)} within ${timeoutMs} ms`, "raise timeoutMs (config `timeoutMs`), ask for fewer tokens (maxTokens), or check that the server is not stuck");
}

export function abortedError(): StrataError {
  return new StrataError("ABORTED", "the model request was cancelled", "run it again to finish");
}
