// sql_query: read-only SQL over one SQLite file. Three locks, each enough alone: the connection is
// opened read-only, `query_only` is set, and the statement must be a single statement SQLite itself
// reports as read-only that returns rows (so no ATTACH, PRAGMA writes or transactions). It runs in a
// child process, so a runaway query (a recursive CTE that never ends) is killed at the time limit —
// a worker thread cannot be stopped while SQLite is busy inside one step. Rows are capped.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { defineTool, type Tool } from "./tool.js";

export interface SqlToolOptions {
  /** The SQLite database file (must exist). */
  file: string;
  /** Most rows returned (default 200). */
  maxRows?: number;
  /** Default 5 s. */
  timeoutMs?: number;
  /** Tool name (default "sql_query"). */
  name?: string;
}

// Plain JavaScript run by the child process; the request arrives as JSON on stdin, the reply leaves on stdout.
const CHILD = `
let input = "";
process.stdin.setEncoding("utf8").on("data", (d) => (input += d)).on("end", () => {
  const req = JSON.parse(input);
  const Database = require(req.driver);
  let db;
  let reply;
  try {
    db = new Database(req.file, { readonly: true, fileMustExist: true });
    db.pragma("query_only = ON");
    const stmt = db.prepare(req.sql);
    if (!stmt.readonly || !stmt.reader) {
      reply = { error: { code: "FORBIDDEN", message: "only statements that read rows are allowed (SELECT, WITH … SELECT)", hint: "ask with a SELECT; this tool never changes the database" } };
    } else {
      const columns = stmt.columns().map((c) => c.name);
      const rows = [];
      let more = false;
      for (const row of stmt.raw(true).iterate(...req.params)) {
        if (rows.length >= req.maxRows) { more = true; break; }
        rows.push(row.map((v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? "<" + v.length + " bytes>" : v)));
      }
      reply = { ok: { columns, rows, truncated: more } };
    }
  } catch (e) {
    reply = { error: { code: "TOOL_FAILED", message: String((e && e.message) || e), hint: "check the SQL against the database's tables" } };
  } finally {
    if (db) db.close();
  }
  process.stdout.write(JSON.stringify(reply));
});
`;

interface Reply {
  ok?: { columns: string[]; rows: unknown[][]; truncated: boolean };
  error?: { code: "FORBIDDEN" | "TOOL_FAILED"; message: string; hint: string };
}

export function runReadOnlyQuery(file: string, sql: string, params: unknown[], o: { maxRows: number; timeoutMs: number; signal?: AbortSignal }): Promise<NonNullable<Reply["ok"]>> {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["-e", CHILD], { stdio: ["pipe", "pipe", "pipe"], env: {} });
    let out = "";
    let err = "";
    let settled = false;
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      f();
    };
    const onAbort = (): void => done(() => {
      child.kill("SIGKILL");
      reject(new StrataError("ABORTED", "the query was cancelled", "run it again"));
    });
    const timer = setTimeout(() => done(() => {
      child.kill("SIGKILL");
      reject(new StrataError("TIMEOUT", `the query ran longer than ${o.timeoutMs} ms and was stopped`, "ask for less (add WHERE or LIMIT)"));
    }), o.timeoutMs);
    o.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", (e) => done(() => reject(new StrataError("TOOL_FAILED", `the query process could not start: ${e.message}`, "check the Node installation"))));
    child.on("close", () =>
      done(() => {
        let reply: Reply;
        try {
          reply = JSON.parse(out) as Reply;
        } catch {
          return reject(new StrataError("TOOL_FAILED", `the query process failed: ${err.trim().split("\n").pop() ?? "no output"}`, "check the SQL"));
        }
        if (reply.ok) resolvePromise(reply.ok);
        else reject(new StrataError(reply.error!.code, reply.error!.message, reply.error!.hint));
      }),
    );
    child.stdin.end(JSON.stringify({ driver, file, sql, params, maxRows: o.maxRows }));
  });
}

export function sqlQueryTool(o: SqlToolOptions): Tool {
  const file = resolve(o.file);
  const maxRows = o.maxRows ?? 200;
  const timeoutMs = o.timeoutMs ?? 5_000;
  return defineTool({
    name: o.name ?? "sql_query",
    description: `Runs one read-only SQL query (SQLite dialect) on the database and returns columns and up to ${maxRows} rows. Use ? placeholders with params for values.`,
    input: z.object({
      sql: z.string().min(1).max(10_000).describe("one SELECT statement"),
      params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).max(100).optional().describe("values for ? placeholders"),
    }),
    risk: "read",
    // The child process enforces the limit; the runtime's timer is a little later as a backstop.
    timeoutMs: timeoutMs + 2_000,
    run: ({ sql, params }, ctx) => runReadOnlyQuery(file, sql, (params ?? []).map((p) => (typeof p === "boolean" ? Number(p) : p)), { maxRows, timeoutMs, signal: ctx.signal }),
  });
}
