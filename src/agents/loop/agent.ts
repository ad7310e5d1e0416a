// The agent loop as a two-node graph, so it is checkpointed, resumable and approvable like any
// other: `agent` asks the model (native tool calls, or a JSON-schema-constrained reply where the
// provider has no tools), `tools` runs the calls it made and feeds results — and errors — back;
// the loop ends when the model answers without calling a tool, or at maxSteps model calls.
//
//   const r = await runAgent({ goal: "What is 17% of 2,340?", model, tools: [calculator()], store });
//   r.status === "completed" && r.result  // the answer
import { z } from "zod";
import { StrataError, toStrataError } from "../../core/errors.js";
import { capabilitiesOf } from "../../model/capabilities.js";
import type { ChatMessage, GenerateRequest, GenerateResult, JsonSchema, ToolCall } from "../../model/types.js";
import type { NodeContext } from "../graph/graph.js";
import { BudgetStop } from "../graph/run-context.js";
import { END, graph, START, type Graph, type NodeFn, type State } from "../graph/graph.js";
import { resumeGraph, runGraph, type RunOptions } from "../graph/runtime.js";
import { enforce, type Validator } from "../guardrails/validators.js";
import { UNTRUSTED_RULE } from "../guardrails/untrusted.js";
import { ToolBox, type Tool } from "../tools/tool.js";
import type { JsonValue, RunResult } from "../types.js";

/** native: the provider's tool calls; json: a reply constrained by a JSON schema; prompt: JSON asked for in words (providers with neither). */
export type ToolMode = "native" | "json" | "prompt";

export interface AgentState extends State {
  goal: string;
  messages: ChatMessage[];
  answer: string | null;
  /** How the model is asked for tool calls; set once native calls (or schemas) proved unsupported. */
  toolMode: ToolMode | null;
}

const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.record(z.string(), z.unknown()), rawArguments: z.string() });
const messageSchema = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  toolCalls: z.array(toolCallSchema).optional(),
  toolCallId: z.string().optional(),
  name: z.string().optional(),
});
export const agentStateSchema = z.object({
  goal: z.string(),
  messages: z.array(messageSchema),
  answer: z.string().nullable().default(null),
  toolMode: z.enum(["native", "json", "prompt"]).nullable().default(null),
}) as unknown as z.ZodType<AgentState>;

export interface AgentOptions {
  /** Tools the model may call (the run's toolbox when absent). */
  tools?: ToolBox | readonly Tool[];
  /** Extra system instructions, after the runtime's own rules. */
  system?: string;
  /** Most model calls (default 10); at the limit the run stops cleanly (budget_exceeded). */
  maxSteps?: number;
  /** "auto" (default): native tool calls; a provider that rejects tools gets schema-constrained JSON replies, one that rejects schemas too gets JSON asked for in words. */
  toolMode?: ToolMode | "auto";
  /** Per model call; a function of the step (1 = first call) to e.g. require a tool call first. */
  toolChoice?: GenerateRequest["toolChoice"] | ((step: number) => GenerateRequest["toolChoice"]);
  temperature?: number;
  seed?: number;
  /** Tokens per model reply (default 512). */
  maxTokens?: number;
  /** Checks (and may rewrite) the final answer; a blocked answer goes back to the model to fix. */
  output?: Validator;
  /** Graph name (default "agent"); part of the graph's identity checked on resume. */
  name?: string;
}

export const AGENT_RULES = [
  "You are an agent. Complete the user's goal, calling the available tools when they help.",
  "Call a tool by its name with arguments that match its schema. If a tool returns an error, read it and fix your call or try another way.",
  "A tool call can be rejected by a person; do not repeat a rejected call.",
  UNTRUSTED_RULE,
  "When you have the answer, reply with it in plain text without calling a tool.",
].join("\n");

function systemMessage(opts: AgentOptions): ChatMessage {
  return { role: "system", content: opts.system ? `${AGENT_RULES}\n\n${opts.system}` : AGENT_RULES };
}

/** The JSON reply schema of the fallback: one of the tools with its arguments, or a final answer. */
export function jsonActionSchema(tools: ToolBox): JsonSchema {
  const options: JsonSchema[] = tools.list().map((t) => ({
    type: "object",
    properties: { tool: { const: t.name }, arguments: t.parameters },
    required: ["tool", "arguments"],
    additionalProperties: false,
  }));
  options.push({ type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false });
  return { type: "object", properties: { action: { anyOf: options } }, required: ["action"], additionalProperties: false };
}

function jsonModeInstructions(tools: ToolBox): string {
  const lines = tools.list().map((t) => `- ${t.name}: ${t.description} Arguments (JSON Schema): ${JSON.stringify(t.parameters)}`);
  return [
    "Reply with one JSON object and nothing else.",
    'To call a tool: {"action": {"tool": "<name>", "arguments": {...}}}. To answer: {"action": {"answer": "<text>"}}.',
    "Tools:",
    ...lines,
  ].join("\n");
}

const actionSchema = z.object({
  action: z.union([z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()).default({}) }), z.object({ answer: z.string() })]),
});

/** Reads a JSON-mode reply: a tool call, an answer, or a problem to tell the model about. */
export function parseJsonAction(r: GenerateResult, visit: number): { calls: ToolCall[]; answer?: string; problem?: string } {
  let value = r.json;
  if (value === undefined) {
    // Without a schema the model may wrap the object in prose or a code fence: take the outermost {…}.
    const start = r.text.indexOf("{");
    const end = r.text.lastIndexOf("}");
    try {
      value = JSON.parse(start >= 0 && end > start ? r.text.slice(start, end + 1) : r.text);
    } catch {
      return { calls: [], problem: "your reply was not one JSON object" };
    }
  }
  const p = actionSchema.safeParse(value);
  if (!p.success) return { calls: [], problem: `your reply did not match the schema: ${p.error.issues[0]?.path.join(".")}: ${p.error.issues[0]?.message}` };
  const a = p.data.action;
  if ("answer" in a) return { calls: [], answer: a.answer };
  return { calls: [{ id: `call_${visit}_1`, name: a.tool, arguments: a.arguments, rawArguments: JSON.stringify(a.arguments) }] };
}

/** Tool-call ids unique within the conversation (some models reuse "call_1"); ids of earlier turns keep theirs. */
function uniqueIds(calls: ToolCall[], messages: ChatMessage[], visit: number): ToolCall[] {
  const used = new Set(messages.flatMap((m) => (m.toolCalls ?? []).map((c) => c.id)));
  return calls.map((c, i) => {
    let id = c.id && /^[A-Za-z0-9_.:-]{1,64}$/.test(c.id) ? c.id : `call_${visit}_${i + 1}`;
    if (used.has(id)) id = `${id}~${visit}.${i + 1}`;
    used.add(id);
    return { ...c, id };
  });
}

/** The model said it lacks the feature the request used (the contract's typed error; no message matching). */
function isUnsupported(e: unknown): boolean {
  return toStrataError(e).code === "MODEL_UNSUPPORTED";
}

/**
 * The conversation for a provider without native tool calls: the model's earlier calls as the JSON
 * actions it is asked to write, and tool results as user turns naming the call they answer.
 */
export function plainTranscript(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m): ChatMessage => {
    if (m.role === "assistant" && m.toolCalls?.length) {
      return { role: "assistant", content: m.toolCalls.map((c) => JSON.stringify({ action: { tool: c.name, arguments: c.arguments } })).join("\n") };
    }
    if (m.role === "tool") return { role: "user", content: `Result of ${m.name ?? "the tool"} (call ${m.toolCallId ?? "?"}):\n${m.content}` };
    return m;
  });
}

function modelNode(opts: AgentOptions): NodeFn<AgentState> {
  return async (state, ctx) => {
    const tools = opts.tools ? (opts.tools instanceof ToolBox ? opts.tools : new ToolBox(opts.tools)) : ctx.tools;
    // "auto" starts with the best the model declares it has; "maybe" is tried and dropped on MODEL_UNSUPPORTED.
    const can = capabilitiesOf(ctx.model);
    const auto: ToolMode = can.tools !== false ? "native" : can.jsonSchema !== false ? "json" : "prompt";
    let mode: ToolMode = state.toolMode ?? (opts.toolMode === undefined || opts.toolMode === "auto" ? auto : opts.toolMode);
    const choice = typeof opts.toolChoice === "function" ? opts.toolChoice(ctx.visit) : opts.toolChoice;
    const base = { temperature: opts.temperature ?? 0, seed: opts.seed, maxTokens: opts.maxTokens ?? 512 };
    const messages = [systemMessage(opts), ...state.messages];
    let calls: ToolCall[] = [];
    let text = "";
    let problem: string | undefined;
    if (tools.list().length === 0) {
      text = (await ctx.generate({ ...base, messages })).text;
    } else {
      if (mode === "native") {
        try {
          const r = await ctx.generate({ ...base, messages, tools: tools.definitions(), toolChoice: choice ?? "auto" });
          calls = r.toolCalls;
          text = r.text;
        } catch (e) {
          if (opts.toolMode === "native" || !isUnsupported(e) || e instanceof BudgetStop) throw e;
          ctx.audit("model.error", { switchedTo: "json", reason: toStrataError(e).message });
          mode = "json";
        }
      }
      if (mode === "json" || mode === "prompt") {
        const jsonMessages: ChatMessage[] = [{ role: "system", content: `${messages[0]!.content}\n\n${jsonModeInstructions(tools)}` }, ...plainTranscript(messages.slice(1))];
        let r: GenerateResult | undefined;
        try {
          if (mode === "json") {
            try {
              r = await ctx.generate({ ...base, messages: jsonMessages, responseSchema: jsonActionSchema(tools) });
            } catch (e) {
              if (opts.toolMode === "json" || !isUnsupported(e) || e instanceof BudgetStop) throw e;
              ctx.audit("model.error", { switchedTo: "prompt", reason: toStrataError(e).message });
              mode = "prompt";
            }
          }
          if (mode === "prompt") r = await ctx.generate({ ...base, messages: jsonMessages });
        } catch (e) {
          const err = toStrataError(e);
          if (err.code !== "MODEL_OUTPUT_INVALID" && err.code !== "PARSE_FAILED") throw e;
          problem = `your reply could not be read: ${err.message}`;
        }
        if (r) {
          const a = parseJsonAction(r, ctx.visit);
          calls = a.calls;
          text = a.answer ?? "";
          problem = a.problem;
          // The raw reply stays in the transcript of a call, so a model without tool calls sees what it did.
          if (problem || calls.length) text = r.text;
        }
      }
    }
    if (problem) {
      // Not an answer: show the model its reply and what was wrong, and go round again.
      return { messages: [{ role: "assistant", content: text }, { role: "user", content: `${problem}. Reply again following the format.` }], toolMode: mode };
    }
    if (calls.length) {
      const unique = uniqueIds(calls, state.messages, ctx.visit);
      return { messages: [{ role: "assistant", content: text, toolCalls: unique }], toolMode: mode };
    }
    if (opts.output) {
      const checked = opts.output(text);
      if (!checked.ok) {
        const why = checked.issues.filter((i) => i.blocking).map((i) => `${i.validator}: ${i.message}`).join("; ");
        ctx.audit("guardrail.flag", { output: text, issues: checked.issues as unknown as JsonValue });
        return { messages: [{ role: "assistant", content: text }, { role: "user", content: `Your answer was not accepted (${why}). Answer again.` }], toolMode: mode };
      }
      text = checked.text;
    }
    return { messages: [{ role: "assistant", content: text }], answer: text, toolMode: mode };
  };
}

function toolsNode(opts: AgentOptions): NodeFn<AgentState> {
  const own = opts.tools ? (opts.tools instanceof ToolBox ? opts.tools : new ToolBox(opts.tools)) : undefined;
  return async (state, ctx) => {
    const last = state.messages[state.messages.length - 1];
    const calls = last?.role === "assistant" ? (last.toolCalls ?? []) : [];
    const outcomes = await ctx.callTools(
      calls.map((c) => ({ callId: c.id, name: c.name, args: c.arguments })),
      { tools: own },
    );
    return { messages: outcomes.map((o): ChatMessage => ({ role: "tool", toolCallId: o.callId, name: o.tool, content: o.content })) };
  };
}

/** The agent loop as a graph: START → agent ⇄ tools → END. */
export function agentGraph(opts: AgentOptions = {}): Graph<AgentState> {
  const maxSteps = opts.maxSteps ?? 10;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new StrataError("USAGE", `maxSteps must be a whole number ≥ 1, got ${maxSteps}`, "e.g. maxSteps: 10");
  return graph<AgentState>({
    name: opts.name ?? "agent",
    state: agentStateSchema,
    reducers: { messages: "append" },
    maxSteps: maxSteps * 2 + 2,
    output: (s) => s.answer,
  })
    .node("agent", modelNode(opts), { kind: "model", maxVisits: maxSteps })
    .node("tools", toolsNode(opts), { kind: "tool" })
    .edge(START, "agent")
    .conditional("agent", (s) => (s.answer !== null ? END : (s.messages[s.messages.length - 1]?.toolCalls?.length ?? 0) > 0 ? "tools" : "agent"), { targets: ["tools", "agent", END] })
    .edge("tools", "agent")
    .compile();
}

export interface RunAgentOptions extends AgentOptions, RunOptions {
  goal: string;
  /** Checks the goal before the run starts (e.g. jailbreakScreen()); a blocked goal is GUARDRAIL_BLOCKED. */
  input?: Validator;
}

/** Runs an agent on a goal with a checkpoint after every model and tool step. */
export function runAgent(opts: RunAgentOptions): Promise<RunResult<AgentState>> {
  const goal = opts.input ? enforce(opts.input(opts.goal), "the goal") : opts.goal;
  if (!goal.trim()) throw new StrataError("USAGE", "the goal is empty", 'say what the agent should do, e.g. --goal "Summarise the open incidents"');
  return runGraph(agentGraph(opts), { goal, messages: [{ role: "user", content: goal }], answer: null, toolMode: null }, { ...opts, tools: opts.tools });
}

/** Continues an agent run (after approvals, a budget stop or a crash) with the same options. */
export function resumeAgent(threadId: string, opts: AgentOptions & RunOptions): Promise<RunResult<AgentState>> {
  return resumeGraph(agentGraph(opts), threadId, opts);
}

/** An agent as one node of a larger graph: runs as a subgraph and writes its answer to `output`. */
export function agentNode<S extends State>(opts: AgentOptions & { goal: (state: S) => string; output: keyof S & string }): NodeFn<S> {
  const g = agentGraph(opts);
  return async (state: S, ctx: NodeContext) => {
    const goal = opts.goal(state);
    const final = await ctx.runGraph(g, { goal, messages: [{ role: "user", content: goal }], answer: null, toolMode: null });
    return { [opts.output]: final.answer } as Partial<S>;
  };
}
