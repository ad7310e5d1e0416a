// Tools that live elsewhere — an MCP server's, mounted by agents/mcp's connectMcp — described by a
// plain descriptor (name, description, JSON Schema input, risk, call). They become runtime tools like
// any other: arguments validated against the advertised schema before the call, approval by risk
// (MCP tools default to "external"), results always fenced as untrusted.
//
//   const conn = await connectMcp({ command: "strata", args: ["mcp", "serve", "--kb", "./kb"] }, { allow: ["search"] });
//   const tools = conn.tools.map((t) => externalTool(t));
import type { JsonSchema } from "../../model/types.js";
import type { ToolRisk } from "../types.js";
import { defineJsonSchemaTool, type Tool } from "./tool.js";

/** The shape of a mounted MCP tool (agents/mcp/client.ts's McpTool), or any tool reached by a call. */
export interface ExternalToolDescriptor {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  risk: ToolRisk;
  call(args: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<{ text: string; structured?: unknown; truncated?: boolean }>;
}

export function externalTool(d: ExternalToolDescriptor, o: { timeoutMs?: number; requiresApproval?: boolean; maxResultChars?: number } = {}): Tool {
  return defineJsonSchemaTool({
    name: d.name,
    description: d.description,
    parameters: d.inputSchema,
    risk: d.risk,
    requiresApproval: o.requiresApproval,
    timeoutMs: o.timeoutMs,
    maxResultChars: o.maxResultChars,
    untrustedOutput: true,
    run: async (args, ctx) => {
      const r = await d.call(args, { signal: ctx.signal });
      return r.structured !== undefined ? { result: r.structured, truncated: r.truncated ?? false } : r.text;
    },
  });
}
