// The agent layer's public surface: tools, the agent loop, workflow graphs (in code and from JSON
// files), the store with checkpoints, approvals and the audit log, guardrails, and ready patterns.
export type * from "./types.js";
export { emptyUsage } from "./types.js";
export * from "./tools/index.js";
export { graph, GraphBuilder, START, END, REDUCERS, type Graph, type GraphOptions, type NodeDef, type NodeFn, type NodeOptions, type NodeUpdate, type Reducer, type ReducerName, type Router, type State } from "./graph/graph.js";
export { GraphInterrupt } from "./graph/context.js";
export type { ApprovalDecision, ToolCallOutcome, ToolCallRequest } from "./graph/calls.js";
export type { NodeContext } from "./graph/graph.js";
export { BudgetStop, type RunPolicy } from "./graph/run-context.js";
export { runGraph, resumeGraph, runState, forkRun, decide, type Decision, type RunOptions } from "./graph/runtime.js";
export { loadGraphFile, graphFileSchema, renderTemplate, evaluateCondition, valueAt, GRAPH_FILE_VERSION, type Condition, type GraphFile, type GraphPlugin, type GraphPluginApi, type GraphPluginFactory, type LoadGraphOptions, type LoadedGraph } from "./graph/file.js";
export { agentGraph, agentNode, runAgent, resumeAgent, jsonActionSchema, parseJsonAction, plainTranscript, AGENT_RULES, type AgentOptions, type AgentState, type RunAgentOptions, type ToolMode } from "./loop/agent.js";
export { plannerSolver, plannerSolverInput, type PlannerSolverOptions, type PlannerSolverState } from "./patterns/planner-solver.js";
export { reflexion, reflexionInput, type Evaluation, type ReflexionOptions, type ReflexionState } from "./patterns/reflexion.js";
export { supervisor, supervisorInput, type SupervisorOptions, type SupervisorState, type WorkerSpec } from "./patterns/supervisor.js";
export { AgentStore, newThreadId, pendingOf, type ApprovalRecord, type CheckpointMeta, type CheckpointRecord, type JournalEntry, type RuntimeMeta, type Taint, type ThreadRecord } from "./store/agent-store.js";
export { AuditLog, type AuditEntry, type AuditProblem, type AuditType, type AuditVerification } from "./store/audit.js";
export { AGENT_STORE_FILE, AGENT_SCHEMA_VERSION, openAgentDatabase } from "./store/schema.js";
export { detectInstructions, fenceUntrusted, UNTRUSTED_RULE, type InstructionFinding } from "./guardrails/untrusted.js";
export { composeValidators, maxLength, schemaValidator, jailbreakScreen, redactPii, enforce, type Validator, type ValidationResult, type ValidationIssue } from "./guardrails/validators.js";
export { answerGuards, type GuardrailSettings } from "./guardrails/answer-guards.js";
