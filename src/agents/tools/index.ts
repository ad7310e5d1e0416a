// Tools: defining them, running them, and the built-in set.
export { defineTool, defineJsonSchemaTool, jsonSchemaOf, modelFacingSchema, ToolBox, TOOL_NAME, type Tool, type ToolContext, type ToolSpec } from "./tool.js";
export { invokeTool, validateArgs, capResult, isTransient, TRANSIENT_CODES, DEFAULT_RETRY, type RetryPolicy, type ToolOutcome } from "./execute.js";
export { calculatorTool, evaluateExpression } from "./calculator.js";
export { knowledgeTools, type KnowledgeToolOptions } from "./knowledge.js";
export { readFileTool, resolveInside, type ReadFileOptions } from "./files.js";
export { sqlQueryTool, runReadOnlyQuery, type SqlToolOptions } from "./sql.js";
export { httpGetTool, hostAllowed, type HttpGetOptions } from "./http.js";
export { shellTool, type ShellOptions } from "./shell.js";
export { externalTool, type ExternalToolDescriptor } from "./external.js";
