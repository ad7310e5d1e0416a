// Every error a user can cause is a StrataError: a stable code, a one-line message naming the cause,
// and a hint naming the fix. The CLI prints message and hint; the server maps code to an HTTP status.

export type ErrorCode =
  | "USAGE"
  | "NOT_FOUND"
  | "NOT_A_STORE"
  | "STORE_TOO_NEW"
  | "STORE_OUTDATED"
  | "STORE_CORRUPT"
  | "EMPTY_FILE"
  | "FILE_TOO_LARGE"
  | "BINARY_FILE"
  | "INVALID_UTF8"
  | "PARSE_FAILED"
  | "PARSE_LIMIT"
  | "UNSUPPORTED_TYPE"
  | "SYMLINK_LOOP"
  | "UNREADABLE"
  | "QUESTION_TOO_LONG"
  | "EMPTY_QUESTION"
  | "ABORTED"
  | "FORBIDDEN"
  | "GGUF_INVALID" | "MODEL_LOAD_FAILED" | "CONTEXT_OVERFLOW"
  | "EMBEDDING_MISMATCH" | "NO_VECTORS" | "MODEL_OUTPUT_INVALID"
  | "MODEL_AUTH" | "MODEL_NOT_FOUND" | "MODEL_BAD_REQUEST" | "MODEL_UNSUPPORTED" | "MODEL_RATE_LIMITED" | "MODEL_SERVER_ERROR" | "MODEL_UNREACHABLE" | "MODEL_UNAVAILABLE" | "TIMEOUT"
  | "TOKENIZER_INVALID" | "TOKENIZER_TOO_NEW" | "VOCAB_TOO_LARGE"
  | "SHAPE_MISMATCH" | "INDEX_OUT_OF_RANGE" | "INVALID_CONFIG" | "STATE_DICT_MISMATCH" | "BACKEND_UNAVAILABLE"
  | "MCP_UNAVAILABLE"
  | "GRAPH_INVALID" | "TOOL_UNKNOWN" | "TOOL_ARGS_INVALID" | "TOOL_FAILED" | "BUDGET_EXCEEDED" | "THREAD_NOT_FOUND" | "NOT_PENDING" | "THREAD_BUSY" | "LOOP_LIMIT" | "AUDIT_BROKEN" | "GUARDRAIL_BLOCKED"
  | "CHECKPOINT_INVALID" | "CHECKPOINT_TOO_NEW" | "SAFETENSORS_INVALID" | "MEMORY_LIMIT" | "TRAINING_DIVERGED"
  | "INTERNAL"
  | "GPU_UNAVAILABLE"
  | "DATASET_INVALID" | "DATASET_EMPTY" | "TEMPLATE_UNSUPPORTED" | "UNSUPPORTED_ARCHITECTURE";

export class StrataError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;

  constructor(code: ErrorCode, message: string, hint = "", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StrataError";
    this.code = code;
    this.hint = hint;
  }
}

export function isStrataError(e: unknown): e is StrataError {
  return e instanceof StrataError;
}

/** Wraps anything thrown into a StrataError, keeping StrataErrors as they are. */
export function toStrataError(e: unknown, code: ErrorCode = "INTERNAL", hint = ""): StrataError {
  if (e instanceof StrataError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new StrataError(code, message, hint, { cause: e });
}

/** Throws ABORTED when the signal has fired; long loops call this between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StrataError("ABORTED", "the operation was cancelled", "run it again to finish; finished work is kept");
}
