// The audit trail: one append-only log per run (root thread). Each entry holds what happened (model
// requests and responses, tool calls and results, approvals and who gave them, budget and guardrail
// events) and the hash of the entry before it, so changing, removing or reordering any entry breaks
// the chain. The store refuses UPDATE and DELETE on the table (triggers), and the run's row keeps the
// last sequence number and hash, so cutting entries off the end shows too. With a key, the chain is
// an HMAC: someone who can write the file but lacks the key cannot forge a consistent log.
import { createHash, createHmac } from "node:crypto";
import { StrataError } from "../../core/errors.js";
import type { JsonValue } from "../types.js";
import type { AgentStore } from "./agent-store.js";

export type AuditType =
  | "run.start"
  | "run.resume"
  | "run.end"
  | "run.fork"
  | "node.error"
  | "model.request"
  | "model.response"
  | "model.error"
  | "tool.call"
  | "tool.result"
  | "tool.replayed"
  | "approval.requested"
  | "approval.decided"
  | "budget.exceeded"
  | "guardrail.flag";

export interface AuditEntry {
  seq: number;
  at: string;
  threadId: string;
  type: AuditType;
  /** "runtime", "model", a tool name, or the person who approved. */
  actor: string;
  data: JsonValue;
  prevHash: string;
  hash: string;
}

export interface AuditProblem {
  seq: number;
  problem: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** Hash of the last entry: keep it elsewhere to anchor the log. */
  head: string;
  problems: AuditProblem[];
}

const GENESIS = "0".repeat(64);

function entryHash(key: string | undefined, prev: string, e: { rootId: string; seq: number; at: string; threadId: string; type: string; actor: string; data: string }): string {
  const text = [prev, e.rootId, String(e.seq), e.at, e.threadId, e.type, e.actor, e.data].join("\n");
  return key ? createHmac("sha256", key).update(text).digest("hex") : createHash("sha256").update(text).digest("hex");
}

interface AuditRow {
  seq: number;
  at: string;
  thread_id: string;
  type: string;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export class AuditLog {
  constructor(
    private readonly store: AgentStore,
    /** HMAC key; without one the chain is plain SHA-256 (detects edits, not a rewrite of everything). */
    private readonly key?: string,
  ) {}

  /** Appends an entry to the log of run `rootId` (its root thread must exist). */
  append(rootId: string, e: { threadId: string; type: AuditType; actor: string; data: JsonValue }): AuditEntry {
    const db = this.store.db;
    const data = JSON.stringify(e.data ?? null);
    return db.transaction(() => {
      const head = db.prepare("SELECT audit_seq, audit_hash FROM threads WHERE thread_id = ?").get(rootId) as { audit_seq: number; audit_hash: string } | undefined;
      if (!head) throw new StrataError("THREAD_NOT_FOUND", `no run ${rootId} to write an audit entry for`, "this is a bug in the agent runtime");
      const seq = head.audit_seq + 1;
      const prevHash = head.audit_hash || GENESIS;
      const at = this.store.timestamp();
      const hash = entryHash(this.key, prevHash, { rootId, seq, at, threadId: e.threadId, type: e.type, actor: e.actor, data });
      db.prepare("INSERT INTO audit (root_id, seq, at, thread_id, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").run(rootId, seq, at, e.threadId, e.type, e.actor, data, prevHash, hash);
      db.prepare("UPDATE threads SET audit_seq = ?, audit_hash = ? WHERE thread_id = ?").run(seq, hash, rootId);
      return { seq, at, threadId: e.threadId, type: e.type, actor: e.actor, data: JSON.parse(data) as JsonValue, prevHash, hash };
    })();
  }

  /** The log of a run in order. Entries whose data is not JSON any more keep it as a string. */
  entries(rootId: string): AuditEntry[] {
    const rows = this.store.db.prepare("SELECT seq, at, thread_id, type, actor, data, prev_hash, hash FROM audit WHERE root_id = ? ORDER BY seq").all(rootId) as AuditRow[];
    return rows.map((r) => {
      let data: JsonValue;
      try {
        data = JSON.parse(r.data) as JsonValue;
      } catch {
        data = r.data;
      }
      return { seq: r.seq, at: r.at, threadId: r.thread_id, type: r.type as AuditType, actor: r.actor, data, prevHash: r.prev_hash, hash: r.hash };
    });
  }

  /**
   * Recomputes the chain of run `rootId`: every entry's hash from its own content and the previous
   * hash, sequence numbers without gaps or repeats, and the run's recorded head at the end.
   */
  verify(rootId: string): AuditVerification {
    const db = this.store.db;
    const head = db.prepare("SELECT audit_seq, audit_hash FROM threads WHERE thread_id = ?").get(rootId) as { audit_seq: number; audit_hash: string } | undefined;
    if (!head) throw new StrataError("THREAD_NOT_FOUND", `no run ${rootId} in ${this.store.location}`, "pass a thread id printed by `strata agent run` (and the same --store)");
    // In sequence order: an entry moved to another number fails its hash (the number is hashed) and
    // its link (prev_hash names the entry that was before it).
    const rows = db.prepare("SELECT seq, at, thread_id, type, actor, data, prev_hash, hash FROM audit WHERE root_id = ? ORDER BY seq").all(rootId) as AuditRow[];
    const problems: AuditProblem[] = [];
    let prev = GENESIS;
    let expectedSeq = 1;
    for (const r of rows) {
      if (r.seq !== expectedSeq) problems.push({ seq: r.seq, problem: r.seq > expectedSeq ? `entries ${expectedSeq}–${r.seq - 1} are missing (deleted)` : `entry ${r.seq} is out of order or repeated (expected ${expectedSeq})` });
      if (r.prev_hash !== prev) problems.push({ seq: r.seq, problem: "does not link to the entry before it (an entry was removed, inserted or moved)" });
      const recomputed = entryHash(this.key, r.prev_hash, { rootId, seq: r.seq, at: r.at, threadId: r.thread_id, type: r.type, actor: r.actor, data: r.data });
      if (recomputed !== r.hash) problems.push({ seq: r.seq, problem: "its content does not match its hash (the entry was edited)" });
      prev = r.hash;
      expectedSeq = r.seq + 1;
    }
    const last = rows[rows.length - 1];
    if ((last?.seq ?? 0) !== head.audit_seq || (last?.hash ?? "") !== head.audit_hash) {
      problems.push({ seq: head.audit_seq, problem: `the run records ${head.audit_seq} entries ending in ${head.audit_hash.slice(0, 12) || "(none)"}, the log ends at ${last?.seq ?? 0} (entries at the end were deleted or the head was altered)` });
    }
    return { ok: problems.length === 0, entries: rows.length, head: last?.hash ?? GENESIS, problems };
  }
}
