// The agent layer's public surface ("strata/agents"): what a user calls to define tools, run an agent
// or a workflow graph, decide approvals, and read the audit log. The plumbing behind it (tool
// invocation and retries, graph-file templating, the JSON action protocol, untrusted-text fencing,
// the store's schema) is imported from its own module inside Strata and is not part of this surface.

/** Runs, budgets, events, pending calls and usage: the shapes every function below takes or returns. */
export type * from "./types.js";

/** Defining a tool: a zod input (`defineTool`) or a JSON Schema one (`defineJsonSchemaTool`), its risk, and `run`. */
export { defineTool, defineJsonSchemaTool, ToolBox, type Tool, type ToolContext, type ToolSpec } from "./tools/tool.js";
/** How a transient tool failure is retried (`RunOptions.retry`). */
export type { RetryPolicy, ToolOutcome } from "./tools/execute.js";
/** The built-in tools, each a factory of a `Tool`: calculator, knowledge-base search and ask, files, SQL, HTTP GET, shell, and an MCP tool adapter. */
export { calculatorTool } from "./tools/calculator.js";
export { knowledgeTools, type KnowledgeToolOptions } from "./tools/knowledge.js";
export { readFileTool, type ReadFileOptions } from "./tools/files.js";
export { sqlQueryTool, type SqlToolOptions } from "./tools/sql.js";
export { httpGetTool, type HttpGetOptions } from "./tools/http.js";
export { shellTool, type ShellOptions } from "./tools/shell.js";
export { externalTool, type ExternalToolDescriptor } from "./tools/external.js";

/** Workflow graphs in code: `graph({name, state}).node().edge().conditional().compile()`, START and END. */
export { graph, START, END, type GraphBuilder, type Graph, type GraphOptions, type NodeDef, type NodeFn, type NodeOptions, type NodeUpdate, type Reducer, type ReducerName, type Router, type State } from "./graph/graph.js";
/** What a node may do besides returning an update (call the model and tools, ask a person); throw a GraphInterrupt to pause for approval. */
export type { NodeContext } from "./graph/graph.js";
export { GraphInterrupt } from "./graph/context.js";
export type { ApprovalDecision, ToolCallOutcome, ToolCallRequest } from "./graph/calls.js";
export type { RunPolicy } from "./graph/run-context.js";
/** Running a graph, resuming it (in any process), reading its state, forking it from a checkpoint, and deciding pending approvals. */
export { runGraph, resumeGraph, runState, forkRun, decide, type Decision, type RunOptions } from "./graph/runtime.js";
/** Workflow graphs from JSON files, with plugins for function nodes. */
export { loadGraphFile, GRAPH_FILE_VERSION, type Condition, type GraphFile, type GraphPlugin, type GraphPluginApi, type GraphPluginFactory, type LoadGraphOptions, type LoadedGraph } from "./graph/file.js";

/** The agent loop (a two-node graph, agent ⇄ tools): run and resume it, or use its graph and node in a graph of your own. */
export { agentGraph, agentNode, runAgent, resumeAgent, type AgentOptions, type AgentState, type RunAgentOptions, type ToolMode } from "./loop/agent.js";
/** Ready patterns built from the same pieces; each `…Input` makes the initial state. */
export { plannerSolver, plannerSolverInput, type PlannerSolverOptions, type PlannerSolverState } from "./patterns/planner-solver.js";
export { reflexion, reflexionInput, type Evaluation, type ReflexionOptions, type ReflexionState } from "./patterns/reflexion.js";
export { supervisor, supervisorInput, type SupervisorOptions, type SupervisorState, type WorkerSpec } from "./patterns/supervisor.js";

/** The store of threads, checkpoints, the journal and approvals (`AgentStore.open(dir)`), and the tamper-evident audit log. */
export { AgentStore, type ApprovalRecord, type CheckpointMeta, type CheckpointRecord, type JournalEntry, type RuntimeMeta, type Taint, type ThreadRecord } from "./store/agent-store.js";
export { AuditLog, type AuditEntry, type AuditProblem, type AuditType, type AuditVerification } from "./store/audit.js";

/** Guardrails: validators for a run's input and output, composed, and the answer guards the server applies. */
export { composeValidators, maxLength, schemaValidator, jailbreakScreen, redactPii, enforce, type Validator, type ValidationResult, type ValidationIssue } from "./guardrails/validators.js";
export { answerGuards, type GuardrailSettings } from "./guardrails/answer-guards.js";
export type { InstructionFinding } from "./guardrails/untrusted.js";
