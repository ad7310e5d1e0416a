// Errors as the server sends them. Every failure is a code, a message and a hint: the library's
// StrataErrors keep their code, the server adds the few codes only HTTP has (401, 409, 413, 415,
// 429, 503), and one table maps each code to its HTTP status. /api answers {error:{code,message,hint}};
// /v1 answers in OpenAI's shape so OpenAI clients raise their usual errors.
import { isStrataError, type ErrorCode } from "../core/errors.js";
import { unsupportedFeature, unsupportedMessage } from "../model/capabilities.js";

/** Codes that only the HTTP layer produces. */
export type ServerOnlyCode = "UNAUTHORIZED" | "CONFLICT" | "PAYLOAD_TOO_LARGE" | "RATE_LIMITED" | "UNSUPPORTED_MEDIA_TYPE" | "SHUTTING_DOWN";
export type ApiErrorCode = ErrorCode | ServerOnlyCode;

export class ServerError extends Error {
  readonly code: ApiErrorCode;
  readonly hint: string;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(code: ApiErrorCode, message: string, hint = "", headers: Record<string, string> = {}) {
    super(message);
    this.name = "ServerError";
    this.code = code;
    this.hint = hint;
    this.headers = headers;
  }
}

/**
 * The one table from error code to HTTP status. Codes not listed are server-side faults (500).
 * Upstream model failures are 502/503/504: the caller did nothing wrong.
 */
const STATUS: Partial<Record<ApiErrorCode, number>> = {
  USAGE: 400,
  EMPTY_QUESTION: 400,
  QUESTION_TOO_LONG: 400,
  CONTEXT_OVERFLOW: 400,
  GUARDRAIL_BLOCKED: 400,
  MODEL_BAD_REQUEST: 400,
  MODEL_UNSUPPORTED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EMBEDDING_MISMATCH: 409,
  NO_VECTORS: 409,
  PAYLOAD_TOO_LARGE: 413,
  FILE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_TYPE: 415,
  EMPTY_FILE: 422,
  BINARY_FILE: 422,
  INVALID_UTF8: 422,
  PARSE_FAILED: 422,
  PARSE_LIMIT: 413,
  SYMLINK_LOOP: 422,
  UNREADABLE: 422,
  RATE_LIMITED: 429,
  MODEL_RATE_LIMITED: 429,
  ABORTED: 499,
  INTERNAL: 500,
  MODEL_AUTH: 502,
  MODEL_NOT_FOUND: 502,
  MODEL_SERVER_ERROR: 502,
  MODEL_UNREACHABLE: 502,
  MODEL_OUTPUT_INVALID: 502,
  MODEL_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
};

export function statusOf(code: ApiErrorCode): number {
  return STATUS[code] ?? 500;
}

export interface ErrorBody {
  code: ApiErrorCode;
  message: string;
  hint: string;
}

export interface ApiError extends ErrorBody {
  status: number;
  headers: Record<string, string>;
  /** True when the message is ours to show; internal faults get a generic message. */
  expected: boolean;
}

/** Fastify's own errors (body too large, bad JSON, bad content type) as API errors. */
function fastifyError(e: { code?: unknown; statusCode?: unknown; message: string; validation?: unknown; validationContext?: unknown }): ApiError | undefined {
  const code = typeof e.code === "string" ? e.code : "";
  const make = (c: ApiErrorCode, message: string, hint: string): ApiError => ({ code: c, message, hint, status: statusOf(c), headers: {}, expected: true });
  if (code === "FST_ERR_VALIDATION" || e.validation) {
    const where = typeof e.validationContext === "string" ? e.validationContext : "request";
    return make("USAGE", `invalid ${where}: ${e.message}`, "see /openapi.json for the request's schema");
  }
  if (code === "FST_ERR_CTP_BODY_TOO_LARGE" || code === "FST_REQ_FILE_TOO_LARGE" || code === "FST_FILES_LIMIT" || code === "FST_PARTS_LIMIT" || code === "FST_FIELDS_LIMIT") {
    return make("PAYLOAD_TOO_LARGE", code === "FST_ERR_CTP_BODY_TOO_LARGE" ? "the request body is over the size limit" : `the upload is over a limit: ${e.message}`, "send a smaller body; the operator sets the limits (strata serve --body-limit / --upload-limit)");
  }
  if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || code === "FST_INVALID_MULTIPART_CONTENT_TYPE") {
    return make("UNSUPPORTED_MEDIA_TYPE", e.message, "send application/json (or multipart/form-data for uploads)");
  }
  if (code === "FST_ERR_CTP_EMPTY_JSON_BODY" || code === "FST_ERR_CTP_INVALID_JSON_BODY" || code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH" || (e instanceof SyntaxError && e.message.includes("JSON"))) {
    return make("USAGE", `the request body is not valid JSON: ${e.message}`, "send a JSON object with Content-Type: application/json");
  }
  if (code === "FST_ERR_NOT_FOUND") return make("NOT_FOUND", e.message, "see /openapi.json for the routes");
  if (code.startsWith("FST_") && typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return make("USAGE", e.message, "see /openapi.json for the request's shape");
  }
  return undefined;
}

/** Anything thrown, as an API error. Unknown faults keep their message out of the response. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ServerError) return { code: e.code, message: e.message, hint: e.hint, status: statusOf(e.code), headers: e.headers, expected: true };
  if (isStrataError(e)) {
    const status = statusOf(e.code);
    const model = e.code.startsWith("MODEL_");
    if (status < 500 && !model) return { code: e.code, message: e.message, hint: e.hint, status, headers: {}, expected: true };
    // A feature the model lacks is the caller's to know (an OpenAI client reads it as "unsupported");
    // only the feature is passed on, not where the library's message says it was refused.
    const feature = e.code === "MODEL_UNSUPPORTED" ? unsupportedFeature(e.message) : undefined;
    if (feature) return { code: e.code, message: unsupportedMessage(feature, "the language model"), hint: "leave it out of the request, or ask for another model (GET /v1/models)", status, headers: {}, expected: true };
    // Model and server-side failures: the library's message names the upstream URL or a server
    // path, which is the operator's business; the client gets the code and a generic message, the
    // log everything.
    return {
      code: e.code,
      message: model ? `the language model ${status === 429 ? "is rate-limited" : status === 400 ? "refused the request" : "failed"} (${e.code})` : e.code === "TIMEOUT" ? "the request timed out" : "internal server error",
      hint: status === 400 ? "shorten the conversation or the question, or change the request's options" : "try again later; the server logged the cause under this response's X-Request-Id",
      status,
      headers: {},
      expected: false,
    };
  }
  if (e instanceof Error) {
    const f = fastifyError(e as Error & { code?: unknown; statusCode?: unknown });
    if (f) return f;
  }
  return { code: "INTERNAL", message: "internal server error", hint: "the server logged the cause with this request's id; report it to the operator", status: 500, headers: {}, expected: false };
}

/** OpenAI's error `type` for a status. */
function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The body of an error on /v1: OpenAI's {error:{message,type,param,code}}, with our hint beside. */
export function openAiErrorBody(err: ErrorBody & { status: number }): { error: { message: string; type: string; param: null; code: string; hint: string } } {
  return { error: { message: err.hint ? `${err.message} (${err.hint})` : err.message, type: openAiType(err.status), param: null, code: err.code, hint: err.hint } };
}

export function notFound(what: string, hint: string): ServerError {
  return new ServerError("NOT_FOUND", what, hint);
}
