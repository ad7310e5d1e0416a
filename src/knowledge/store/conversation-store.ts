// Conversations and their messages in the knowledge-base store. A conversation belongs to the
// user who started it: only that user adds turns; the user (or the operator) reads them. A turn
// (question and answer) is written in one transaction, so a crash never leaves half a turn.
import type Database from "better-sqlite3";
import { StrataError } from "../../core/errors.js";
import type { Principal } from "../types.js";
import type { Access } from "./access.js";
import { mayRead, ownerOf } from "./trace-store.js";

export type MessageRole = "user" | "assistant";

export interface StoredMessage {
  ordinal: number;
  role: MessageRole;
  content: string;
  /** What the pipeline recorded with the message (citations, verdicts, trace id), as parsed JSON. */
  data: unknown;
  createdAt: string;
}

export interface NewMessage {
  role: MessageRole;
  content: string;
  data?: unknown;
}

export interface ConversationInfo {
  id: string;
  owner: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
}

/** A conversation as a list shows it: titled by its first question. */
export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Session ids are typed by people and shown in paths and logs: a short safe alphabet. */
export function checkSessionId(id: string): string {
  if (!SESSION_ID.test(id)) {
    throw new StrataError("USAGE", `session id "${id.slice(0, 80)}" is not valid`, "use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. --session support-42");
  }
  return id;
}

export function notYours(id: string): StrataError {
  return new StrataError("FORBIDDEN", `session ${id} belongs to another user`, "choose another --session id, or run as the user who started it (--as)");
}

interface ConversationRow {
  id: string;
  owner: string;
  created_at: string;
  updated_at: string;
}

export class ConversationStore {
  constructor(private readonly db: Database.Database) {}

  private row(id: string): ConversationRow | undefined {
    return this.db.prepare("SELECT id, owner, created_at, updated_at FROM conversations WHERE id = ?").get(id) as ConversationRow | undefined;
  }

  private info(r: ConversationRow): ConversationInfo {
    const { n } = this.db.prepare("SELECT count(*) AS n FROM messages WHERE conversation_id = ?").get(r.id) as { n: number };
    return { id: r.id, owner: r.owner, createdAt: r.created_at, updatedAt: r.updated_at, messages: n };
  }

  /** The conversation for reading, if it exists; someone else's is an error, not "empty". */
  find(id: string, access: Access): ConversationInfo | undefined {
    const r = this.row(checkSessionId(id));
    if (!r) return undefined;
    if (!mayRead(r.owner, access)) throw notYours(id);
    return this.info(r);
  }

  /** The principal's own conversations, most recent first (owner in the same query). */
  listOwn(principal: Principal): ConversationSummary[] {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.created_at, c.updated_at,
                (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS messages,
                (SELECT m.content FROM messages m WHERE m.conversation_id = c.id AND m.role = 'user' ORDER BY m.ordinal LIMIT 1) AS title
           FROM conversations c WHERE c.owner = @owner ORDER BY c.updated_at DESC, c.id`,
      )
      .all({ owner: ownerOf(principal) }) as { id: string; created_at: string; updated_at: string; messages: number; title: string | null }[];
    return rows.map((r) => ({ id: r.id, title: (r.title ?? "").slice(0, 200), createdAt: r.created_at, updatedAt: r.updated_at, messages: r.messages }));
  }

  /** Whether the principal owns a conversation with this id (owner in the same query). */
  isOwnedBy(id: string, principal: Principal): boolean {
    return this.db.prepare("SELECT 1 FROM conversations WHERE id = ? AND owner = ?").get(id, ownerOf(principal)) !== undefined;
  }

  /** Checks the caller may add turns to the conversation (its owner, or a new id). */
  checkWritable(id: string, access: Access): void {
    const r = this.row(checkSessionId(id));
    if (r && r.owner !== ownerOf(access)) throw notYours(id);
    if (ownerOf(access) === "anonymous") throw new StrataError("FORBIDDEN", "an anonymous caller cannot keep a conversation", "name the user with --as <user>");
  }

  /** Messages in order; `last` keeps only the most recent ones. */
  messages(id: string, access: Access, opts: { last?: number } = {}): StoredMessage[] {
    if (!this.find(id, access)) return [];
    const rows = (
      opts.last === undefined
        ? this.db.prepare("SELECT ordinal, role, content, data, created_at FROM messages WHERE conversation_id = ? ORDER BY ordinal").all(id)
        : this.db.prepare("SELECT * FROM (SELECT ordinal, role, content, data, created_at FROM messages WHERE conversation_id = ? ORDER BY ordinal DESC LIMIT ?) ORDER BY ordinal").all(id, opts.last)
    ) as { ordinal: number; role: string; content: string; data: string | null; created_at: string }[];
    return rows.map((r) => ({
      ordinal: r.ordinal,
      role: r.role === "assistant" ? "assistant" : "user",
      content: r.content,
      data: parseData(r.data, id),
      createdAt: r.created_at,
    }));
  }

  /**
   * Appends messages to a conversation, creating it for the caller when new. Immediate mode takes
   * the write lock before the next ordinal is read, so two writers never pick the same one.
   */
  append(id: string, access: Access, messages: NewMessage[]): ConversationInfo {
    checkSessionId(id);
    const owner = ownerOf(access);
    return this.db
      .transaction(() => {
        this.checkWritable(id, access);
        const now = new Date().toISOString();
        if (!this.row(id)) this.db.prepare("INSERT INTO conversations (id, owner, created_at, updated_at) VALUES (?, ?, ?, ?)").run(id, owner, now, now);
        const { next } = this.db.prepare("SELECT coalesce(max(ordinal), -1) + 1 AS next FROM messages WHERE conversation_id = ?").get(id) as { next: number };
        const put = this.db.prepare("INSERT INTO messages (conversation_id, ordinal, role, content, data, created_at) VALUES (?, ?, ?, ?, ?, ?)");
        messages.forEach((m, i) => put.run(id, next + i, m.role, m.content, m.data === undefined ? null : JSON.stringify(m.data), now));
        this.db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").run(now, id);
        return this.info(this.row(id)!);
      })
      .immediate();
  }
}

export function parseData(data: string | null, id: string): unknown {
  if (data === null) return null;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new StrataError("STORE_CORRUPT", `a message of session ${id} has unreadable data`, "start a new session with another --session id");
  }
}
