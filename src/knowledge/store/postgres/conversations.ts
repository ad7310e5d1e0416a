// Conversations and traces in the PostgreSQL store, with the embedded store's rules (owner only,
// the operator reads all). A turn is one transaction; the conversation's row is locked first, so
// two servers appending to one conversation never pick the same ordinal.
import { StrataError } from "../../../core/errors.js";
import { parseTraceData, type TraceData } from "../../../core/trace.js";
import type { Principal } from "../../types.js";
import { isOwner, type Access } from "../access.js";
import type { ConversationOps, TraceOps } from "../backend.js";
import { checkSessionId, notYours, parseData, type ConversationInfo, type ConversationSummary, type NewMessage, type StoredMessage } from "../conversation-store.js";
import { mayRead, ownerOf, type TraceSummary } from "../trace-store.js";
import type { SqlClient, SqlRunner } from "./sql.js";

interface ConversationRow {
  id: string;
  owner: string;
  created_at: string;
  updated_at: string;
  messages: number;
}

const ROW = "SELECT c.id, c.owner, c.created_at, c.updated_at, (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS messages FROM conversations c WHERE c.id = $1";

const info = (r: ConversationRow): ConversationInfo => ({ id: r.id, owner: r.owner, createdAt: r.created_at, updatedAt: r.updated_at, messages: r.messages });

export class PgConversations implements ConversationOps {
  constructor(private readonly db: SqlClient) {}

  private async row(q: SqlRunner, id: string): Promise<ConversationRow | undefined> {
    return (await q.query<ConversationRow>(ROW, [id]))[0];
  }

  async find(id: string, access: Access): Promise<ConversationInfo | undefined> {
    const r = await this.row(this.db, checkSessionId(id));
    if (!r) return undefined;
    if (!mayRead(r.owner, access)) throw notYours(id);
    return info(r);
  }

  async listOwn(principal: Principal): Promise<ConversationSummary[]> {
    const rows = await this.db.query<{ id: string; created_at: string; updated_at: string; messages: number; title: string | null }>(
      `SELECT c.id, c.created_at, c.updated_at,
              (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS messages,
              (SELECT m.content FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user' ORDER BY m.ordinal LIMIT 1) AS title
         FROM conversations c WHERE c.owner = $1 ORDER BY c.updated_at DESC, c.id`,
      [ownerOf(principal)],
    );
    return rows.map((r) => ({ id: r.id, title: (r.title ?? "").slice(0, 200), createdAt: r.created_at, updatedAt: r.updated_at, messages: r.messages }));
  }

  async isOwnedBy(id: string, principal: Principal): Promise<boolean> {
    return (await this.db.query("SELECT 1 FROM conversations WHERE id = $1 AND owner = $2", [id, ownerOf(principal)])).length > 0;
  }

  private async writable(q: SqlRunner, id: string, access: Access): Promise<void> {
    const r = await this.row(q, checkSessionId(id));
    if (r && r.owner !== ownerOf(access)) throw notYours(id);
    if (ownerOf(access) === "anonymous") throw new StrataError("FORBIDDEN", "an anonymous caller cannot keep a conversation", "name the user with --as <user>");
  }

  checkWritable(id: string, access: Access): Promise<void> {
    return this.writable(this.db, id, access);
  }

  async messages(id: string, access: Access, opts: { last?: number } = {}): Promise<StoredMessage[]> {
    if (!(await this.find(id, access))) return [];
    const rows = await this.db.query<{ ordinal: number; role: string; content: string; data: string | null; created_at: string }>(
      opts.last === undefined
        ? "SELECT ordinal, role, content, data, created_at FROM messages WHERE conversation_id = $1 ORDER BY ordinal"
        : "SELECT * FROM (SELECT ordinal, role, content, data, created_at FROM messages WHERE conversation_id = $1 ORDER BY ordinal DESC LIMIT $2) x ORDER BY ordinal",
      opts.last === undefined ? [id] : [id, opts.last],
    );
    return rows.map((r) => ({ ordinal: r.ordinal, role: r.role === "assistant" ? "assistant" : "user", content: r.content, data: parseData(r.data, id), createdAt: r.created_at }));
  }

  append(id: string, access: Access, messages: NewMessage[]): Promise<ConversationInfo> {
    checkSessionId(id);
    const owner = ownerOf(access);
    return this.db.transaction(async (tx) => {
      await this.writable(tx, id, access);
      const now = new Date().toISOString();
      await tx.query("INSERT INTO conversations (id, owner, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (id) DO NOTHING", [id, owner, now]);
      // The row lock orders concurrent appends; the owner is checked again under it.
      const locked = await tx.query<{ owner: string }>("SELECT owner FROM conversations WHERE id = $1 FOR UPDATE", [id]);
      if (locked[0]!.owner !== owner) throw notYours(id);
      const next = (await tx.query<{ next: number }>("SELECT coalesce(max(ordinal), -1) + 1 AS next FROM messages WHERE conversation_id = $1", [id]))[0]!.next;
      for (const [i, m] of messages.entries()) {
        await tx.query("INSERT INTO messages (conversation_id, ordinal, role, content, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)", [id, next + i, m.role, m.content, m.data === undefined ? null : JSON.stringify(m.data), now]);
      }
      await tx.query("UPDATE conversations SET updated_at = $1 WHERE id = $2", [now, id]);
      return info((await this.row(tx, id))!);
    });
  }
}

export class PgTraces implements TraceOps {
  constructor(private readonly db: SqlClient) {}

  async save(trace: TraceData, access: Access): Promise<void> {
    await this.db.query("INSERT INTO traces (id, kind, owner, created_at, data) VALUES ($1, $2, $3, $4, $5)", [trace.id, trace.kind, ownerOf(access), trace.startedAt, JSON.stringify(trace)]);
  }

  async get(id: string, access: Access): Promise<(TraceData & { owner: string }) | undefined> {
    const row = (await this.db.query<{ owner: string; data: string }>("SELECT owner, data FROM traces WHERE id = $1", [id]))[0];
    if (!row || !mayRead(row.owner, access)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(row.data);
    } catch {
      throw new StrataError("STORE_CORRUPT", `trace ${id} is not valid JSON in the store`, "run the question again for a new trace");
    }
    return { ...parseTraceData(raw), owner: row.owner };
  }

  async list(access: Access, limit = 20): Promise<TraceSummary[]> {
    type R = { id: string; kind: string; owner: string; created_at: string };
    const rows = isOwner(access)
      ? await this.db.query<R>("SELECT id, kind, owner, created_at FROM traces ORDER BY created_at DESC, id LIMIT $1", [limit])
      : access.user
        ? await this.db.query<R>("SELECT id, kind, owner, created_at FROM traces WHERE owner = $1 ORDER BY created_at DESC, id LIMIT $2", [ownerOf(access), limit])
        : [];
    return rows.map((r) => ({ id: r.id, kind: r.kind, owner: r.owner, createdAt: r.created_at }));
  }
}
