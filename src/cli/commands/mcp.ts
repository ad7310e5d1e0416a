import { Option, type Command } from "commander";
import { createKbMcpServer, describeAccess } from "../../agents/mcp/kb-server.js";
import { serveMcpHttp, serveMcpStdio } from "../../agents/mcp/serve.js";
import type { VerifyMode } from "../../knowledge/answer/generative.js";
import { KnowledgeBase } from "../../knowledge/knowledge-base.js";
import { OWNER, type Access } from "../../knowledge/store/access.js";
import { createLanguageModel } from "../../model/registry.js";
import type { LanguageModel } from "../../model/types.js";
import { usageError } from "../errors.js";
import { providerOptions } from "../model-options.js";
import { parseList, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";
import { modelAnswerOptions } from "./ask.js";

interface ServeFlags {
  kb?: string;
  as?: string;
  groups?: string;
  owner?: boolean;
  model?: string;
  verify?: VerifyMode;
  contextTokens?: string;
  maxTokens?: string;
  http?: boolean;
  port?: string;
  host?: string;
}

const DEFAULT_PORT = 8765;

const HELP = `
Tools: search {query, k?, mode?: "lexical"}, ask {question, k?} and document {docId, offset?, maxChars?};
resource: strata://documents/{docId}. Results are JSON with citations (document, chunk, character
span, score); the text fields are quoted from documents and marked untrusted.

Access: an MCP server answers whoever connects to it, so it acts as ONE principal that you choose:
  (default)                   anonymous: public documents only
  --as <user> [--groups …]    what that user may read
  --owner                     every document (the store owner); use only for a server just for you
Over HTTP it listens on loopback only and has no authentication.

Examples:
  strata mcp serve --kb ./kb
  strata mcp serve --kb ./kb --as dana --groups research
  strata mcp serve --kb ./kb --http --port 8765      # http://127.0.0.1:8765/mcp
  strata mcp serve --kb ./kb --model openai:http://127.0.0.1:11434/v1#llama3
Client configuration (stdio): {"command": "strata", "args": ["mcp", "serve", "--kb", "/path/to/kb"]}`;

/** The server's one principal: anonymous unless told otherwise; the owner only with --owner. */
function serverAccess(flags: ServeFlags): Access {
  if (flags.owner) {
    if (flags.as !== undefined || flags.groups !== undefined) throw usageError("--owner cannot be combined with --as or --groups", "use either --owner (every document) or --as <user> [--groups …]");
    return OWNER;
  }
  if (flags.as === undefined) {
    if (flags.groups !== undefined) throw usageError("--groups needs --as <user>", "add --as <user>, e.g. --as dana --groups research");
    return { groups: [] };
  }
  const user = flags.as.trim();
  if (!user) throw usageError("--as needs a user name", "e.g. --as dana");
  if (user.toLowerCase() === "owner") throw usageError('"--as owner" does not give the owner\'s access', "use --owner for every document (and only for a server no one else can reach)");
  return { user, groups: parseList(flags.groups) };
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`--port must be a whole number from 0 to 65535, got "${value}"`, `e.g. --port ${DEFAULT_PORT} (0 picks a free port)`);
  return n;
}

/** Resolves when SIGINT (through ctx.signal) or SIGTERM asks the server to stop. */
function untilStopped(signal: AbortSignal): { stopped: Promise<void>; signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  signal.addEventListener("abort", stop, { once: true });
  process.once("SIGTERM", stop);
  const stopped = new Promise<void>((resolve) => controller.signal.addEventListener("abort", () => resolve(), { once: true }));
  return {
    stopped,
    signal: controller.signal,
    dispose: () => {
      signal.removeEventListener("abort", stop);
      process.off("SIGTERM", stop);
    },
  };
}

export function registerMcp(program: Command): void {
  const mcp = program
    .command("mcp")
    .description("the Model Context Protocol: serve a knowledge base to MCP clients")
    .addHelpText("after", "\nExample:\n  strata mcp serve --kb ./kb");
  mcp
    .command("serve")
    .description("serve a knowledge base's search, ask and documents over MCP (stdio, or Streamable HTTP on loopback)")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--as <user>", "act as this user for every request (default: anonymous, public documents only)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--owner", "act as the store's owner: every document, to whoever connects (prints a warning)")
    .option("--model <ref>", "language model for the ask tool, e.g. openai:http://127.0.0.1:11434/v1#llama3 (default: extractive answers)")
    .addOption(new Option("--verify <how>", "with --model: what to do with unsupported sentences (default flag)").choices(["flag", "remove"]))
    .option("--context-tokens <n>", "with --model: most tokens of the model's window to use")
    .option("--max-tokens <n>", "with --model: tokens kept for the answer (default 512)")
    .option("--http", "serve Streamable HTTP at http://<host>:<port>/mcp instead of stdio")
    .option("--port <n>", `with --http: port (default ${DEFAULT_PORT}; 0 picks a free one)`)
    .option("--host <addr>", "with --http: loopback address to listen on (default 127.0.0.1)")
    .addHelpText("after", HELP)
    .action(withCommand(async (flags: ServeFlags, ctx: CommandContext) => {
      const access = serverAccess(flags);
      if (!flags.http && (flags.port !== undefined || flags.host !== undefined)) throw usageError(`--${flags.port !== undefined ? "port" : "host"} needs --http`, "add --http, or leave it out to serve over stdio");
      const port = flags.http ? parsePort(flags.port) : 0;
      if (!flags.model) {
        const stray = (["verify", "contextTokens", "maxTokens"] as const).find((f) => flags[f] !== undefined);
        if (stray) throw usageError(`--${stray.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} needs --model <ref>`, "add a language model, e.g. --model openai:http://127.0.0.1:11434/v1#llama3");
      }
      const answer = flags.model ? modelAnswerOptions(flags) : undefined;
      const kbDir = requireKb(flags.kb);
      const model: LanguageModel | undefined = flags.model ? await createLanguageModel(flags.model, providerOptions()) : undefined;
      const log = (line: string): boolean => process.stderr.write(`strata mcp: ${line}\n`);
      try {
        const kb = KnowledgeBase.open(kbDir, {});
        try {
          if (flags.owner) log("warning: --owner serves EVERY document of this knowledge base to whoever connects to this server");
          const factory = () => createKbMcpServer({ kb, access, model, answer });
          const stop = untilStopped(ctx.signal);
          try {
            if (flags.http) {
              const http = await serveMcpHttp(factory, { host: flags.host, port, onError: (e) => log(`error: ${e instanceof Error ? e.message : String(e)}`) });
              log(`serving ${kb.location} as ${describeAccess(access)} at ${http.url} (loopback only, no authentication)`);
              await stop.stopped;
              await http.close();
            } else {
              // stdout carries the protocol: anything a library logs goes to stderr instead.
              console.log = console.info = console.debug = console.error;
              log(`serving ${kb.location} as ${describeAccess(access)} over stdio`);
              await serveMcpStdio(factory(), { signal: stop.signal });
            }
          } finally {
            stop.dispose();
          }
          return 0;
        } finally {
          kb.close();
        }
      } finally {
        await model?.close();
      }
    }));
}
