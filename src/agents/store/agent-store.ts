// The agent store: threads (one per run, plus one per subgraph run inside it), their checkpoints
// (the whole graph state after every node), writes of nodes that finished inside a superstep that has
// not ended yet, the journal of model and tool calls (so a resumed node never repeats a side effect),
// pending and decided approvals, and the hash-chained audit log (audit.ts). One SQLite file; every
// method that writes is one transaction.
import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { StrataError } from "../../core/errors.js";
import { emptyUsage, type JsonValue, type PendingCall, type RunErrorInfo, type RunUsage, type StopInfo, type ThreadStatus, type ToolRisk } from "../types.js";
import { openAgentDatabase, type AgentStoreOpenOptions } from "./schema.js";

/** Untrusted text with instructions in it that entered a run (see guardrails/untrusted.ts). */
export interface Taint {
  /** Where it came from, e.g. "tool kb_search (call call_1)". */
  source: string;
  /** The instruction-like phrases found. */
  findings: string[];
  at: string;
}

/** What the runtime keeps per thread besides the graph state. */
export interface RuntimeMeta {
  usage: RunUsage;
  taint: Taint[];
}

export interface ThreadRecord {
  threadId: string;
  rootId: string;
  parentId: string | null;
  graph: string;
  graphHash: string;
  /** How to rebuild the run in another process (the CLI's run spec); null for graphs built in code. */
  spec: JsonValue;
  status: ThreadStatus;
  head: string | null;
  runtime: RuntimeMeta;
  error: RunErrorInfo | null;
  stop: StopInfo | null;
  /** The graph's output, once the run completed. */
  result: JsonValue;
  forkedFrom: string | null;
  /** The server user the run belongs to; null for runs made by the CLI or in code. */
  owner: string | null;
  leasePid: number | null;
  leaseHost: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CheckpointMeta {
  /** Times each node has run in this thread. */
  visits: Record<string, number>;
  /** For join edges (several sources → one target): sources finished since the target last ran. */
  joins: Record<string, string[]>;
  usage: RunUsage;
  taint: Taint[];
}

export interface CheckpointRecord {
  checkpointId: string;
  threadId: string;
  seq: number;
  parentId: string | null;
  step: number;
  /** Nodes whose updates produced this checkpoint ([] for the input checkpoint). */
  ran: string[];
  /** Nodes to run next ([] when the run is complete). */
  next: string[];
  state: Record<string, unknown>;
  meta: CheckpointMeta;
  createdAt: string;
}

export interface JournalEntry {
  key: string;
  kind: "tool" | "model";
  name: string;
  args: JsonValue;
  status: "started" | "done";
  result: JsonValue;
  attempts: number;
}

export type ApprovalStatus = "pending" | "approved" | "rejected";

export interface ApprovalRecord extends PendingCall {
  rootId: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: string | null;
  /** Arguments a person edited the call to, when they did. */
  editedArgs: JsonValue | undefined;
  comment: string | null;
}

interface ThreadRow {
  thread_id: string;
  root_id: string;
  parent_id: string | null;
  graph: string;
  graph_hash: string;
  spec: string | null;
  status: ThreadStatus;
  head: string | null;
  runtime: string;
  error: string | null;
  stop: string | null;
  result: string | null;
  forked_from: string | null;
  /** Absent in a version 1 file opened read-only. */
  owner?: string | null;
  lease_pid: number | null;
  lease_host: string | null;
  created_at: string;
  updated_at: string;
}

interface CheckpointRow {
  checkpoint_id: string;
  thread_id: string;
  seq: number;
  parent_id: string | null;
  step: number;
  ran: string;
  next: string;
  state: string;
  meta: string;
  created_at: string;
}

interface ApprovalRow {
  thread_id: string;
  call_id: string;
  root_id: string;
  node: string;
  tool: string | null;
  args: string;
  reason: string;
  risk: ToolRisk;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: string | null;
  edited_args: string | null;
  comment: string | null;
  requested_at: string;
}

const parse = <T>(text: string | null, fallback: T): T => (text === null ? fallback : (JSON.parse(text) as T));

function toThread(r: ThreadRow): ThreadRecord {
  const runtime = parse<Partial<RuntimeMeta>>(r.runtime, {});
  return {
    threadId: r.thread_id,
    rootId: r.root_id,
    parentId: r.parent_id,
    graph: r.graph,
    graphHash: r.graph_hash,
    spec: parse<JsonValue>(r.spec, null),
    status: r.status,
    head: r.head,
    runtime: { usage: { ...emptyUsage(), ...runtime.usage }, taint: runtime.taint ?? [] },
    error: parse<RunErrorInfo | null>(r.error, null),
    stop: parse<StopInfo | null>(r.stop, null),
    result: parse<JsonValue>(r.result, null),
    forkedFrom: r.forked_from,
    owner: r.owner ?? null,
    leasePid: r.lease_pid,
    leaseHost: r.lease_host,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toCheckpoint(r: CheckpointRow): CheckpointRecord {
  return {
    checkpointId: r.checkpoint_id,
    threadId: r.thread_id,
    seq: r.seq,
    parentId: r.parent_id,
    step: r.step,
    ran: JSON.parse(r.ran) as string[],
    next: JSON.parse(r.next) as string[],
    state: JSON.parse(r.state) as Record<string, unknown>,
    meta: JSON.parse(r.meta) as CheckpointMeta,
    createdAt: r.created_at,
  };
}

function toApproval(r: ApprovalRow): ApprovalRecord {
  return {
    callId: r.call_id,
    threadId: r.thread_id,
    rootId: r.root_id,
    node: r.node,
    tool: r.tool,
    args: JSON.parse(r.args) as JsonValue,
    reason: r.reason,
    risk: r.risk,
    requestedAt: r.requested_at,
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    editedArgs: r.edited_args === null ? undefined : (JSON.parse(r.edited_args) as JsonValue),
    comment: r.comment,
  };
}

export function pendingOf(a: ApprovalRecord): PendingCall {
  return { callId: a.callId, tool: a.tool, args: a.args, reason: a.reason, risk: a.risk, threadId: a.threadId, node: a.node, requestedAt: a.requestedAt };
}

export function newThreadId(): string {
  return `thr_${randomBytes(8).toString("hex")}`;
}

/** JSON text of a value that must be JSON (state, arguments, results); undefined becomes null. */
export function toJsonText(value: unknown, what: string): string {
  try {
    return JSON.stringify(value ?? null);
  } catch (e) {
    throw new StrataError("GRAPH_INVALID", `${what} is not JSON-serialisable: ${(e as Error).message}`, "keep graph state, tool arguments and results to plain JSON values (no cycles, no BigInt)");
  }
}

/** The owner a run spec names (`spec.owner`), so a run started through runGraph gets its owner without a runtime option. */
function ownerOfSpec(spec: JsonValue): string | null {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return null;
  const owner = (spec as { owner?: unknown }).owner;
  return typeof owner === "string" ? owner : null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class AgentStore {
  private readonly now: () => string;

  private constructor(
    readonly location: string,
    readonly db: Database.Database,
    opts: { now?: () => Date },
  ) {
    this.now = () => (opts.now?.() ?? new Date()).toISOString();
  }

  /** Opens `<dir>/agents.db`; `create` makes the folder and the database when absent. */
  static open(location: string, opts: AgentStoreOpenOptions & { now?: () => Date } = {}): AgentStore {
    return new AgentStore(resolve(location), openAgentDatabase(location, opts), opts);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  timestamp(): string {
    return this.now();
  }

  // ---------- threads ----------

  /** A new thread; its owner is `owner`, else the one its spec names (`spec.owner`), else none. */
  createThread(t: { threadId: string; rootId: string; parentId: string | null; graph: string; graphHash: string; spec: JsonValue; runtime: RuntimeMeta; forkedFrom?: string | null; owner?: string | null }): ThreadRecord {
    const at = this.now();
    const owner = t.owner !== undefined ? t.owner : ownerOfSpec(t.spec);
    try {
      this.db
        .prepare(
          `INSERT INTO threads (thread_id, root_id, parent_id, graph, graph_hash, spec, status, head, runtime, forked_from, owner, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?, ?, ?, ?)`,
        )
        .run(t.threadId, t.rootId, t.parentId, t.graph, t.graphHash, t.spec === null ? null : toJsonText(t.spec, "the run spec"), toJsonText(t.runtime, "runtime"), t.forkedFrom ?? null, owner, at, at);
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw new StrataError("USAGE", `thread ${t.threadId} already exists in ${this.location}`, "resume it with `strata agent resume`, or start a run with another thread id");
      throw e;
    }
    return this.requireThread(t.threadId);
  }

  getThread(threadId: string): ThreadRecord | undefined {
    const row = this.db.prepare("SELECT * FROM threads WHERE thread_id = ?").get(threadId) as ThreadRow | undefined;
    return row ? toThread(row) : undefined;
  }

  requireThread(threadId: string): ThreadRecord {
    const t = this.getThread(threadId);
    if (!t) throw new StrataError("THREAD_NOT_FOUND", `no thread ${threadId} in ${this.location}`, "list runs with `strata agent show --store <dir>`, or pass the --store the run was started with");
    return t;
  }

  /** Runs (root threads), newest first. */
  listThreads(limit = 50): ThreadRecord[] {
    return (this.db.prepare("SELECT * FROM threads WHERE parent_id IS NULL ORDER BY created_at DESC, thread_id LIMIT ?").all(limit) as ThreadRow[]).map(toThread);
  }

  /** Runs (root threads) of one owner, newest first; the owner sits in the query, not in a filter after it. */
  listThreadsOf(owner: string, limit = 50): ThreadRecord[] {
    return (this.db.prepare("SELECT * FROM threads WHERE parent_id IS NULL AND owner = ? ORDER BY created_at DESC, thread_id LIMIT ?").all(owner, limit) as ThreadRow[]).map(toThread);
  }

  /**
   * Runs left `running` by a process that is gone (a crash, kill -9, a server stopped mid-run):
   * marks them failed with the error `why` gives, so they read as resumable instead of running forever. Leases of
   * live processes on this host, and leases taken on other hosts, are left alone.
   */
  abandonStaleRuns(why: (threadId: string) => RunErrorInfo): string[] {
    const host = hostname();
    return this.db.transaction(() => {
      const rows = this.db.prepare("SELECT thread_id, lease_pid, lease_host FROM threads WHERE parent_id IS NULL AND status = 'running'").all() as { thread_id: string; lease_pid: number | null; lease_host: string | null }[];
      const stale = rows.filter((r) => r.lease_pid === null || (r.lease_host === host && (r.lease_pid === process.pid || !pidAlive(r.lease_pid))));
      for (const r of stale) {
        this.db.prepare("UPDATE threads SET status = 'failed', error = ?, lease_pid = NULL, lease_host = NULL, updated_at = ? WHERE thread_id = ?").run(JSON.stringify(why(r.thread_id)), this.now(), r.thread_id);
      }
      return stale.map((r) => r.thread_id);
    }).immediate();
  }

  /** Every thread of a run: the root and its subgraph threads. */
  threadsOfRun(rootId: string): ThreadRecord[] {
    return (this.db.prepare("SELECT * FROM threads WHERE root_id = ? ORDER BY created_at, thread_id").all(rootId) as ThreadRow[]).map(toThread);
  }

  setStatus(threadId: string, status: ThreadStatus, o: { error?: RunErrorInfo | null; stop?: StopInfo | null; result?: JsonValue } = {}): void {
    this.db
      .prepare("UPDATE threads SET status = ?, error = ?, stop = ?, result = ?, updated_at = ? WHERE thread_id = ?")
      .run(status, o.error ? JSON.stringify(o.error) : null, o.stop ? JSON.stringify(o.stop) : null, o.result === undefined ? null : toJsonText(o.result, "the run's result"), this.now(), threadId);
  }

  updateRuntime(threadId: string, runtime: RuntimeMeta): void {
    this.db.prepare("UPDATE threads SET runtime = ?, updated_at = ? WHERE thread_id = ?").run(toJsonText(runtime, "runtime"), this.now(), threadId);
  }

  updateSpec(threadId: string, spec: JsonValue): void {
    this.db.prepare("UPDATE threads SET spec = ? WHERE thread_id = ?").run(toJsonText(spec, "the run spec"), threadId);
  }

  /**
   * Marks this process as the one running the thread. A lease held by another live process on this
   * host is THREAD_BUSY; a lease left by a process that died (kill -9) is taken over.
   */
  acquireLease(threadId: string): void {
    const host = hostname();
    this.db.transaction(() => {
      const t = this.requireThread(threadId);
      if (t.leasePid !== null && t.leasePid !== process.pid && t.leaseHost === host && pidAlive(t.leasePid)) {
        throw new StrataError("THREAD_BUSY", `thread ${threadId} is being run by process ${t.leasePid}`, "wait for it to finish or stop it first; two processes must not run one thread");
      }
      this.db.prepare("UPDATE threads SET lease_pid = ?, lease_host = ?, status = 'running', updated_at = ? WHERE thread_id = ?").run(process.pid, host, this.now(), threadId);
    }).immediate();
  }

  releaseLease(threadId: string): void {
    this.db.prepare("UPDATE threads SET lease_pid = NULL, lease_host = NULL WHERE thread_id = ? AND lease_pid = ?").run(threadId, process.pid);
  }

  // ---------- checkpoints ----------

  /** Saves a checkpoint and makes it the thread's head, in one transaction. */
  saveCheckpoint(threadId: string, c: { parentId: string | null; step: number; ran: string[]; next: string[]; state: unknown; meta: CheckpointMeta }): CheckpointRecord {
    const state = toJsonText(c.state, "the graph state");
    const meta = toJsonText(c.meta, "checkpoint metadata");
    const at = this.now();
    return this.db.transaction(() => {
      const seq = ((this.db.prepare("SELECT max(seq) AS s FROM checkpoints WHERE thread_id = ?").get(threadId) as { s: number | null }).s ?? 0) + 1;
      const id = `ckpt_${String(seq).padStart(6, "0")}_${randomBytes(4).toString("hex")}`;
      this.db
        .prepare("INSERT INTO checkpoints (checkpoint_id, thread_id, seq, parent_id, step, ran, next, state, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(id, threadId, seq, c.parentId, c.step, JSON.stringify(c.ran), JSON.stringify(c.next), state, meta, at);
      this.db.prepare("UPDATE threads SET head = ?, runtime = ?, updated_at = ? WHERE thread_id = ?").run(id, JSON.stringify({ usage: c.meta.usage, taint: c.meta.taint }), at, threadId);
      return { checkpointId: id, threadId, seq, parentId: c.parentId, step: c.step, ran: c.ran, next: c.next, state: JSON.parse(state) as Record<string, unknown>, meta: c.meta, createdAt: at };
    })();
  }

  getCheckpoint(checkpointId: string): CheckpointRecord | undefined {
    const row = this.db.prepare("SELECT * FROM checkpoints WHERE checkpoint_id = ?").get(checkpointId) as CheckpointRow | undefined;
    return row ? toCheckpoint(row) : undefined;
  }

  requireCheckpoint(checkpointId: string): CheckpointRecord {
    const c = this.getCheckpoint(checkpointId);
    if (!c) throw new StrataError("NOT_FOUND", `no checkpoint ${checkpointId} in ${this.location}`, "list a thread's checkpoints with `strata agent show <thread> --checkpoints`");
    return c;
  }

  headCheckpoint(threadId: string): CheckpointRecord | undefined {
    const t = this.requireThread(threadId);
    return t.head ? this.getCheckpoint(t.head) : undefined;
  }

  listCheckpoints(threadId: string): CheckpointRecord[] {
    this.requireThread(threadId);
    return (this.db.prepare("SELECT * FROM checkpoints WHERE thread_id = ? ORDER BY seq").all(threadId) as CheckpointRow[]).map(toCheckpoint);
  }

  /** The update a node produced inside an unfinished superstep, kept so a resume does not run it again. */
  savePendingWrite(checkpointId: string, node: string, update: unknown): void {
    this.db.prepare("INSERT OR REPLACE INTO pending_writes (checkpoint_id, node, data) VALUES (?, ?, ?)").run(checkpointId, node, toJsonText(update, `the update of node ${node}`));
  }

  pendingWrites(checkpointId: string): Map<string, unknown> {
    const rows = this.db.prepare("SELECT node, data FROM pending_writes WHERE checkpoint_id = ?").all(checkpointId) as { node: string; data: string }[];
    return new Map(rows.map((r) => [r.node, JSON.parse(r.data) as unknown]));
  }

  // ---------- journal ----------

  journalGet(threadId: string, key: string): JournalEntry | undefined {
    const r = this.db.prepare("SELECT key, kind, name, args, status, result, attempts FROM journal WHERE thread_id = ? AND key = ?").get(threadId, key) as
      | { key: string; kind: "tool" | "model"; name: string; args: string; status: "started" | "done"; result: string | null; attempts: number }
      | undefined;
    if (!r) return undefined;
    return { key: r.key, kind: r.kind, name: r.name, args: JSON.parse(r.args) as JsonValue, status: r.status, result: parse<JsonValue>(r.result, null), attempts: r.attempts };
  }

  /** Records that a call is about to run (before its side effect); counts attempts. */
  journalStart(threadId: string, key: string, kind: "tool" | "model", name: string, args: unknown): void {
    this.db
      .prepare(
        `INSERT INTO journal (thread_id, key, kind, name, args, status, attempts, started_at) VALUES (?, ?, ?, ?, ?, 'started', 1, ?)
         ON CONFLICT (thread_id, key) DO UPDATE SET attempts = attempts + 1, args = excluded.args, started_at = excluded.started_at`,
      )
      .run(threadId, key, kind, name, toJsonText(args, "arguments"), this.now());
  }

  journalFinish(threadId: string, key: string, result: unknown): void {
    this.db.prepare("UPDATE journal SET status = 'done', result = ?, finished_at = ? WHERE thread_id = ? AND key = ?").run(toJsonText(result, "a result"), this.now(), threadId, key);
  }

  /** Journal entries of a thread, oldest first (for show and tests). */
  journalEntries(threadId: string): JournalEntry[] {
    const rows = this.db.prepare("SELECT key FROM journal WHERE thread_id = ? ORDER BY started_at, key").all(threadId) as { key: string }[];
    return rows.map((r) => this.journalGet(threadId, r.key)!);
  }

  // ---------- approvals ----------

  /** Records a pending call; asking again for the same call keeps the first request. */
  requestApproval(p: PendingCall & { rootId: string }): ApprovalRecord {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO approvals (thread_id, call_id, root_id, node, tool, args, reason, risk, status, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      )
      .run(p.threadId, p.callId, p.rootId, p.node, p.tool, toJsonText(p.args, "arguments"), p.reason, p.risk, p.requestedAt);
    return this.getApproval(p.threadId, p.callId)!;
  }

  getApproval(threadId: string, callId: string): ApprovalRecord | undefined {
    const r = this.db.prepare("SELECT * FROM approvals WHERE thread_id = ? AND call_id = ?").get(threadId, callId) as ApprovalRow | undefined;
    return r ? toApproval(r) : undefined;
  }

  /** Approvals of a run (all its threads), in request order; `status` filters. */
  approvalsOfRun(rootId: string, status?: ApprovalStatus): ApprovalRecord[] {
    const rows = (
      status
        ? this.db.prepare("SELECT * FROM approvals WHERE root_id = ? AND status = ? ORDER BY requested_at, call_id").all(rootId, status)
        : this.db.prepare("SELECT * FROM approvals WHERE root_id = ? ORDER BY requested_at, call_id").all(rootId)
    ) as ApprovalRow[];
    return rows.map(toApproval);
  }

  /** Records a person's decision on a pending call; a call that is not pending is NOT_PENDING. */
  decide(rootId: string, callId: string, d: { status: "approved" | "rejected"; by: string; editedArgs?: JsonValue; comment?: string }): ApprovalRecord {
    return this.db.transaction(() => {
      const rows = this.db.prepare("SELECT * FROM approvals WHERE root_id = ? AND call_id = ?").all(rootId, callId) as ApprovalRow[];
      const pending = rows.filter((r) => r.status === "pending");
      if (pending.length === 0) {
        const decided = rows[0];
        throw new StrataError(
          "NOT_PENDING",
          decided ? `call ${callId} of thread ${rootId} is not pending: it was ${decided.status} by ${decided.decided_by ?? "?"} at ${decided.decided_at ?? "?"}` : `thread ${rootId} has no call ${callId} waiting for approval`,
          "list what is waiting with `strata agent show <thread>` (pending calls are listed first)",
        );
      }
      if (pending.length > 1) throw new StrataError("USAGE", `call id ${callId} is pending in several subgraphs of ${rootId}`, `name the subgraph thread instead: one of ${pending.map((r) => r.thread_id).join(", ")}`);
      const row = pending[0]!;
      this.db
        .prepare("UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, edited_args = ?, comment = ? WHERE thread_id = ? AND call_id = ?")
        .run(d.status, d.by, this.now(), d.editedArgs === undefined ? null : toJsonText(d.editedArgs, "edited arguments"), d.comment ?? null, row.thread_id, callId);
      return this.getApproval(row.thread_id, callId)!;
    }).immediate();
  }
}
