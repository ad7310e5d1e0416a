// A LanguageModel over any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
// llama.cpp's server, LM Studio…), spoken over plain fetch. As with the local providers, a stream
// cancelled mid-answer (the caller's signal, or close()) ends with finish "aborted" and the text so
// far (test/model/conformance.ts is the contract); close() cancels what is in flight.
import { StrataError } from "../../../core/errors.js";
import { LANGUAGE_MODEL_SPEC, unsupported } from "../../capabilities.js";
import { estimateTokens } from "../../usage.js";
import type { GenerateRequest, GenerateResult, LanguageModel, StreamEvent } from "../../types.js";
import { buildChatBody } from "./chat-request.js";
import { buildResult } from "./chat-result.js";
import { displayUrl, resolveOpenAiConfig, type OpenAiConfig, type OpenAiProviderOptions } from "./config.js";
import { postJson, readJson, type OpenAiCall } from "./http.js";
import { fromWireToolCall } from "./messages.js";
import { readSse } from "./sse.js";
import { StreamAssembler } from "./stream-assembler.js";
import { chatChunkSchema, chatCompletionSchema, firstIssue } from "./wire.js";

const CHAT_PATH = "/chat/completions";

function notACompletion(call: OpenAiCall, problem: string): StrataError {
  return new StrataError("MODEL_OUTPUT_INVALID", `POST ${displayUrl(call.url)} answered with JSON that is not a chat completion (${problem})`, "check that the base URL points at an OpenAI-compatible API (it usually ends in /v1)");
}

async function completionResult(cfg: OpenAiConfig, request: GenerateRequest, call: OpenAiCall, startedAt: number): Promise<GenerateResult> {
  const parsed = chatCompletionSchema.safeParse(await readJson(call));
  if (!parsed.success) throw notACompletion(call, firstIssue(parsed.error));
  const choice = parsed.data.choices[0]!;
  const toolCalls = (choice.message.tool_calls ?? []).map(fromWireToolCall);
  return buildResult(cfg, request, { text: choice.message.content ?? "", toolCalls, finishReason: choice.finish_reason, usage: parsed.data.usage, model: parsed.data.model }, startedAt);
}

class OpenAiLanguageModel implements LanguageModel {
  readonly provider = "openai";
  readonly specificationVersion = LANGUAGE_MODEL_SPEC;
  /** Whether the server implements tools and schemas is known only when it answers (see `post`). */
  readonly capabilities = { tools: "maybe", jsonSchema: "maybe", streaming: true, logprobs: false } as const;
  readonly id: string;
  private closed = false;
  /** Cancels the requests in flight when the model is closed. */
  private readonly closing = new AbortController();

  constructor(private readonly cfg: OpenAiConfig) {
    this.id = cfg.ref;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const startedAt = performance.now();
    const call = await this.post(request, false);
    return completionResult(this.cfg, request, call, startedAt);
  }

  /** The request's signal merged with close(); USAGE once closed. */
  private signalFor(request: GenerateRequest): AbortSignal {
    if (this.closed) throw new StrataError("USAGE", `${this.id} is closed`, "create the model again to use it");
    return request.signal ? AbortSignal.any([request.signal, this.closing.signal]) : this.closing.signal;
  }

  /**
   * POSTs the chat request. A 400 that names tools (or schemas) when the request carried them is
   * the server saying it lacks the feature: that becomes MODEL_UNSUPPORTED, which callers act on.
   */
  private async post(request: GenerateRequest, stream: boolean): Promise<OpenAiCall> {
    try {
      return await postJson(this.cfg, CHAT_PATH, buildChatBody(this.cfg.model, request, stream), this.signalFor(request), stream ? "text/event-stream" : "application/json");
    } catch (e) {
      if (!(e instanceof StrataError) || e.code !== "MODEL_BAD_REQUEST") throw e;
      const where = `the server at ${displayUrl(this.cfg.baseUrl)} (${e.message})`;
      if (request.tools?.length && /\btools?\b|function/i.test(e.message)) throw unsupported("tools", where, "leave out tools, or use a server/model with tool calling", e);
      if (request.responseSchema && /schema|json|response_format/i.test(e.message)) throw unsupported("jsonSchema", where, "leave out responseSchema, or use a server with structured output", e);
      throw e;
    }
  }

  async *stream(request: GenerateRequest): AsyncIterable<StreamEvent> {
    const startedAt = performance.now();
    const cfg = this.cfg;
    const call = await this.post(request, true);
    const contentType = call.response.headers.get("content-type") ?? "";
    if (!contentType.includes("text/event-stream")) {
      // A server that ignores stream:true answers whole; pass that on as a one-piece stream.
      const result = await completionResult(cfg, request, call, startedAt);
      if (result.text) yield { type: "text-delta", text: result.text };
      for (const c of result.toolCalls) yield { type: "tool-call", call: c };
      yield { type: "finish", result };
      return;
    }
    const body = call.response.body;
    if (!body) throw notACompletion(call, "empty body");
    const answer = new StreamAssembler();
    let done = false;
    let events = 0;
    const cancelled = (): boolean => request.signal?.aborted === true || this.closing.signal.aborted;
    try {
      for await (const event of readSse(body)) {
        if (cancelled()) break;
        if (event.data === "[DONE]") {
          done = true;
          break;
        }
        events++;
        let json: unknown;
        try {
          json = JSON.parse(event.data);
        } catch (e) {
          throw new StrataError(
            "MODEL_OUTPUT_INVALID",
            `the stream from POST ${displayUrl(call.url)} has a broken event ${events} (invalid JSON in a data line: ${(e as Error).message}): ${JSON.stringify(call.redact(event.data).slice(0, 80))}`,
            "the server sent a corrupt stream: check its log, or use generate() instead of stream()",
          );
        }
        const chunk = chatChunkSchema.safeParse(json);
        if (!chunk.success) throw notACompletion(call, `stream event ${events}: ${firstIssue(chunk.error)}`);
        if (chunk.data.error) {
          const said = typeof chunk.data.error === "string" ? chunk.data.error : chunk.data.error.message;
          throw new StrataError("MODEL_SERVER_ERROR", `POST ${displayUrl(call.url)} failed mid-stream: ${call.redact(said.slice(0, 300))}`, "check the server's log: it may have run out of memory or context");
        }
        const text = answer.add(chunk.data);
        if (text) yield { type: "text-delta", text };
      }
    } catch (e) {
      if (!cancelled()) throw call.fail(e);
    }
    if (cancelled()) {
      // Cut short on purpose: the text so far, no half-sent tool calls, usage estimated from the text.
      const parts = { ...answer.parts([]), usage: undefined };
      yield { type: "finish", result: { ...buildResult(cfg, { ...request, responseSchema: undefined }, parts, startedAt), finishReason: "aborted" } };
      return;
    }
    // A finish reason without [DONE] is a complete answer from a terse server; neither is a cut one.
    if (!done && !answer.finished) {
      throw new StrataError(
        "MODEL_OUTPUT_INVALID",
        `the stream from POST ${displayUrl(call.url)} ended after ${events} events without finishing the answer (no finish reason, no [DONE])`,
        "the server closed the stream early: check its log (it may have crashed), then try again",
      );
    }
    const toolCalls = answer.toolCalls();
    for (const c of toolCalls) yield { type: "tool-call", call: c };
    yield { type: "finish", result: buildResult(cfg, request, answer.parts(toolCalls), startedAt) };
  }

  /** The protocol has no tokenizer endpoint, so this is the chars/4 estimate (see estimateTokens). */
  async countTokens(text: string): Promise<number> {
    return estimateTokens(text);
  }

  async close(): Promise<void> {
    // Nothing else is held between requests: fetch manages its own connections.
    this.closed = true;
    this.closing.abort();
  }
}

/** A language model for `openai:<base URL>#<model>`; no request is sent until the first call. */
export async function createOpenAiLanguageModel(ref: string, opts: OpenAiProviderOptions = {}): Promise<LanguageModel> {
  return new OpenAiLanguageModel(resolveOpenAiConfig(ref, opts));
}
