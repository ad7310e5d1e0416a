// Settings of one OpenAI-compatible endpoint, resolved once from the model reference and the
// provider options, plus the two rules that keep secrets out of messages: URLs are shown without
// credentials or query strings, and any text from the server is scrubbed of the key and those.
import { StrataError } from "../../../core/errors.js";
import { parseModelRef } from "../../ref.js";
import type { ModelPrice, ProviderOptions } from "../../types.js";

/** ProviderOptions plus the knobs only this provider has. */
export interface OpenAiProviderOptions extends ProviderOptions {
  /** Texts per POST /embeddings request (default 64). */
  batchSize?: number;
  /** First retry waits about this long, doubling each time (default 500 ms). */
  retryBaseDelayMs?: number;
  /** No single wait between retries is longer than this, Retry-After included (default 30 s). */
  retryMaxDelayMs?: number;
}

export interface OpenAiConfig {
  /** The reference the model was created from. */
  ref: string;
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:11434/v1. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  batchSize: number;
  prices?: Record<string, ModelPrice>;
  /** Strings never to show: the API key, and the password and query values of the base URL. */
  secrets: string[];
  fetch: typeof fetch;
  log: (line: string) => void;
}

// Local models on CPU can take minutes for a long answer; a remote API answers far sooner.
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_RETRIES = 2;

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new StrataError("USAGE", `${name} must be a whole number ≥ ${min}, got ${value}`, `pass a ${name} of at least ${min} or leave it unset`);
  return value;
}

export function resolveOpenAiConfig(ref: string, opts: OpenAiProviderOptions = {}): OpenAiConfig {
  const parsed = parseModelRef(ref);
  if (parsed.scheme !== "openai" || !parsed.model) throw new StrataError("USAGE", `"${ref}" is not an openai: model reference`, "e.g. openai:http://127.0.0.1:11434/v1#llama3");
  return {
    ref,
    baseUrl: parsed.target,
    model: parsed.model,
    apiKey: opts.apiKey || undefined,
    timeoutMs: positiveInt("timeoutMs", opts.timeoutMs, DEFAULT_TIMEOUT_MS),
    maxRetries: positiveInt("maxRetries", opts.maxRetries, DEFAULT_MAX_RETRIES, 0),
    retryBaseDelayMs: positiveInt("retryBaseDelayMs", opts.retryBaseDelayMs, 500, 0),
    retryMaxDelayMs: positiveInt("retryMaxDelayMs", opts.retryMaxDelayMs, 30_000, 0),
    batchSize: positiveInt("batchSize", opts.batchSize, 64),
    prices: opts.prices,
    secrets: secretsOf(parsed.target, opts.apiKey),
    fetch: opts.fetch ?? globalThis.fetch,
    log: opts.onLog ?? (() => {}),
  };
}

function secretsOf(baseUrl: string, apiKey: string | undefined): string[] {
  const out = apiKey ? [apiKey] : [];
  const u = new URL(baseUrl);
  if (u.password) out.push(decodeURIComponent(u.password));
  for (const value of u.searchParams.values()) if (value.length >= 4) out.push(value);
  return out;
}

/** base + path, with the path joined before any query string (Azure-style ?api-version=… stays last). */
export function endpointUrl(baseUrl: string, path: string): string {
  const u = new URL(baseUrl);
  u.pathname = u.pathname.replace(/\/+$/, "") + path;
  return u.toString();
}

/** A URL fit for messages: no user:password, no query string (keys sometimes ride there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return "(invalid URL)";
  }
}

/** Masks the secrets in text that came from elsewhere (a server's error message). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("***");
  return out;
}
