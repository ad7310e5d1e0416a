// The one place that talks HTTP to an OpenAI-compatible server: POST JSON with the key, a timeout
// merged with the caller's signal, and retries with backoff on 429, 5xx and socket errors.
import { StrataError, toStrataError } from "../../../core/errors.js";
import { displayUrl, endpointUrl, redact, type OpenAiConfig } from "./config.js";
import { abortedError, httpStatusError, networkError, networkErrorCode, timeoutError } from "./http-errors.js";
import { backoffDelayMs, sleep } from "../../../core/retry.js";
import { isRetryableStatus, parseRetryAfter } from "./retry.js";

/** A successful (2xx) answer whose body is still to be read. */
export interface OpenAiCall {
  response: Response;
  /** The full URL that answered. */
  url: string;
  attempts: number;
  /** Masks the key (and other secrets of the reference) in text the server sent. */
  redact(text: string): string;
  /** Turns an error thrown while reading the body into the StrataError that explains it. */
  fail(e: unknown): StrataError;
}

function headers(cfg: OpenAiConfig, accept: string): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", accept };
  if (cfg.apiKey) h.authorization = `Bearer ${cfg.apiKey}`;
  return h;
}

/**
 * POSTs `body` to the base URL + `path`. The timeout covers one attempt from sending until the
 * body has been read (for a stream: until its last event). Retries `cfg.maxRetries` times on
 * 429 (waiting Retry-After when given), 5xx and socket-level failures; never on other 4xx, on a
 * timeout, or once the caller has cancelled.
 */
export async function postJson(cfg: OpenAiConfig, path: string, body: unknown, callerSignal?: AbortSignal, accept = "application/json"): Promise<OpenAiCall> {
  const url = endpointUrl(cfg.baseUrl, path);
  const payload = JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    if (callerSignal?.aborted) throw abortedError();
    const timeout = AbortSignal.timeout(cfg.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    const fail = (e: unknown): StrataError => {
      if (e instanceof StrataError) return e;
      if (callerSignal?.aborted) return abortedError();
      if (timeout.aborted) return timeoutError(url, cfg.timeoutMs);
      if (networkErrorCode(e) || e instanceof TypeError) {
        return new StrataError(
          "MODEL_UNREACHABLE",
          `the connection to ${displayUrl(url)} closed before the answer was complete (${networkErrorCode(e) ?? "terminated"})`,
          "the server dropped the connection mid-answer: check its log (it may have crashed or run out of memory) and try again",
          { cause: e },
        );
      }
      return toStrataError(e);
    };
    const retryIn = async (ms: number, why: string): Promise<void> => {
      cfg.log(`${why} from POST ${displayUrl(url)}; retry ${attempt + 1} of ${cfg.maxRetries} in ${(ms / 1000).toFixed(1)} s`);
      await sleep(ms, callerSignal, abortedError);
    };

    let response: Response;
    try {
      response = await cfg.fetch(url, { method: "POST", headers: headers(cfg, accept), body: payload, signal });
    } catch (e) {
      if (callerSignal?.aborted) throw abortedError();
      if (timeout.aborted) throw timeoutError(url, cfg.timeoutMs);
      const code = networkErrorCode(e);
      if (code && attempt < cfg.maxRetries) {
        await retryIn(backoffDelayMs(attempt, cfg.retryBaseDelayMs, cfg.retryMaxDelayMs), code);
        continue;
      }
      throw networkError(cfg, url, e, attempt + 1);
    }
    if (response.ok) return { response, url, attempts: attempt + 1, fail, redact: (text) => redact(text, cfg.secrets) };

    let text: string;
    try {
      text = await response.text();
    } catch (e) {
      throw fail(e);
    }
    if (isRetryableStatus(response.status) && attempt < cfg.maxRetries) {
      const asked = parseRetryAfter(response.headers.get("retry-after"));
      const wait = Math.min(cfg.retryMaxDelayMs, asked ?? backoffDelayMs(attempt, cfg.retryBaseDelayMs, cfg.retryMaxDelayMs));
      await retryIn(wait, `HTTP ${response.status}`);
      continue;
    }
    throw httpStatusError(cfg, url, response.status, text, attempt + 1);
  }
}

/** Reads a 2xx body as JSON; a body that is not JSON is the server's fault, said plainly. */
export async function readJson(call: OpenAiCall): Promise<unknown> {
  let text: string;
  try {
    text = await call.response.text();
  } catch (e) {
    throw call.fail(e);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new StrataError(
      "MODEL_OUTPUT_INVALID",
      `POST ${displayUrl(call.url)} answered with something that is not JSON: ${JSON.stringify(call.redact(text.slice(0, 200)).slice(0, 80))}`,
      "check that the base URL points at an OpenAI-compatible API (it usually ends in /v1)",
    );
  }
}
