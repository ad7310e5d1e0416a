// MCP both ways: a client that mounts an MCP server's tools under an allow-list, and a knowledge
// base served as an MCP server (stdio or Streamable HTTP on loopback).
export { connectMcp } from "./client.js";
export type { ConnectMcpOptions, McpCallOptions, McpConnection, McpHttpTarget, McpStdioTarget, McpTarget, McpTool, McpToolResult, McpToolRisk } from "./client.js";
export type { AllowEntry } from "./allow-list.js";
export { createKbMcpServer, describeAccess, DOCUMENT_URI } from "./kb-server.js";
export type { KbMcpServerOptions } from "./kb-server.js";
export { MCP_HTTP_PATH, serveMcpHttp, serveMcpStdio } from "./serve.js";
export type { McpHttpOptions, McpHttpServer } from "./serve.js";
