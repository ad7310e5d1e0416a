// Tools through node-llama-cpp's function calling: our tool definitions become its functions, its
// calls become our ToolCalls. toolChoice "required" (or a named tool) is honoured by a chat wrapper
// that starts the answer inside the function-call syntax, so the model must pick a function.
import { randomBytes } from "node:crypto";
import type { ChatModelFunctions, ChatWrapper, ChatWrapperGenerateContextStateOptions, ChatWrapperGeneratedContextState, LlamaText as LlamaTextType } from "node-llama-cpp";
import { StrataError } from "../../../core/errors.js";
import type { GenerateRequest, ToolCall } from "../../types.js";
import { toGrammarSchema } from "./grammar-schema.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export interface ToolPlan {
  functions?: ChatModelFunctions;
  /** The model must call one of `functions`. */
  forced: boolean;
}

export function planTools(request: Pick<GenerateRequest, "tools" | "toolChoice" | "responseSchema">): ToolPlan {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? "auto";
  if (tools.length === 0) {
    if (choice === "required" || typeof choice === "object") throw new StrataError("USAGE", "toolChoice asks for a tool call but the request has no tools", "pass tools, or leave toolChoice out");
    return { forced: false };
  }
  if (choice === "none") return { forced: false };
  if (request.responseSchema) {
    throw new StrataError("USAGE", "llama.cpp cannot combine tools with a responseSchema in one request", "ask for the tool call first, then for the structured answer in a second request");
  }
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const t of tools) {
    if (!NAME.test(t.name)) throw new StrataError("USAGE", `tool name "${t.name}" cannot be used in a function call`, "use letters, digits, _ . - (starting with a letter or _), at most 64 characters");
    if (Object.hasOwn(functions, t.name)) throw new StrataError("USAGE", `two tools are named "${t.name}"`, "give every tool its own name");
    const params = t.parameters;
    if (params !== undefined && (typeof params !== "object" || params === null || (params.type !== undefined && params.type !== "object"))) {
      throw new StrataError("USAGE", `the parameters of tool "${t.name}" must be a JSON Schema object ({"type": "object", ...})`, "describe the arguments as an object schema");
    }
    functions[t.name] = { description: t.description, params: params === undefined ? undefined : toGrammarSchema(params, `the parameters of tool "${t.name}"`) };
  }
  if (typeof choice === "object") {
    const only = functions[choice.name];
    if (!only) throw new StrataError("USAGE", `toolChoice names "${choice.name}", which is not among the tools`, `choose one of ${Object.keys(functions).join(", ")}`);
    return { functions: { [choice.name]: only }, forced: true };
  }
  return { functions, forced: choice === "required" };
}

/**
 * The same chat wrapper, except that the model's answer starts in function-calling mode: the call
 * prefix (e.g. "||call: ") is put into the context and the function-name grammar takes over.
 */
export function forceFunctionCall(inner: ChatWrapper, LlamaText: typeof LlamaTextType): ChatWrapper {
  const functionsSyntax = inner.settings.functions;
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "generateContextState") {
        return (options: ChatWrapperGenerateContextStateOptions): ChatWrapperGeneratedContextState => {
          const state = target.generateContextState(options);
          if (!options.availableFunctions) return state;
          if (state.functionCall) return { ...state, functionCall: { initiallyEngaged: true, disengageInitiallyEngaged: [] } };
          return {
            contextText: state.contextText,
            stopGenerationTriggers: state.stopGenerationTriggers,
            noPrefixTrigger: { type: "functionCall", inject: LlamaText(functionsSyntax.call.prefix) },
          };
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export interface FunctionCallLike {
  functionName: string;
  params: unknown;
}

/** node-llama-cpp's calls as ToolCalls; `rawParams` holds the exact argument text per call index when streamed. */
export function toToolCalls(calls: readonly FunctionCallLike[] | undefined, rawParams: ReadonlyMap<number, string>): ToolCall[] {
  return (calls ?? []).map((c, i) => {
    const args = c.params === undefined || c.params === null ? {} : c.params;
    if (typeof args !== "object" || Array.isArray(args)) {
      throw new StrataError("PARSE_FAILED", `the model called ${c.functionName} with arguments that are not an object`, "give the tool an object schema for its parameters");
    }
    return {
      id: `call_${randomBytes(6).toString("hex")}`,
      name: c.functionName,
      arguments: args as Record<string, unknown>,
      rawArguments: rawParams.get(i)?.trim() || JSON.stringify(args),
    };
  });
}
