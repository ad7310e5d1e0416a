// The knowledge bases a server holds: a registry row and member list per base in server.db, and one
// Strata knowledge base per name under <data>/kbs/<name>/. Whether a caller may use a base is a
// condition of the query that finds it, so a base the caller is not a member of looks exactly like
// one that does not exist. Open stores are kept for the server's life and counted while in use,
// so deleting a base (or shutting down) waits for the requests that hold it.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { StrataError } from "../core/errors.js";
import { KnowledgeBase } from "../knowledge/knowledge-base.js";
import { STORE_FILE } from "../knowledge/store/schema.js";
import type { Caller } from "./accounts.js";
import { checkName } from "./accounts.js";
import { ServerError } from "./errors.js";

export const KB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface KbMembers {
  users: string[];
  groups: string[];
}

export interface KbInfo {
  name: string;
  createdAt: string;
  createdBy: string;
  members: KbMembers;
}

/** What `importFrom` did: the registered base and how many documents its copy holds. */
export interface KbImport extends KbInfo {
  documents: number;
  source: string;
}

interface Handle {
  kb: KnowledgeBase;
  users: number;
  /** Resolves when the last user lets go after the base was marked for closing. */
  drained?: () => void;
  closing: boolean;
}

interface KbRow {
  name: string;
  created_at: string;
  created_by: string;
}

export function checkKbName(name: string): string {
  if (!KB_NAME_PATTERN.test(name)) {
    throw new ServerError("USAGE", `knowledge-base name "${name.slice(0, 80)}" is not valid`, "use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return name;
}

/** The membership condition over kbs alias `k`: admins manage every base; others need to be listed, by name or group. */
const MEMBER_SQL = `(@admin = 1 OR EXISTS (SELECT 1 FROM kb_members m WHERE m.kb = k.name AND (
    (m.kind = 'user' AND m.principal = @user)
 OR (m.kind = 'group' AND m.principal IN (SELECT value FROM json_each(@groups))))))`;

function memberParams(caller: Caller): { admin: number; user: string; groups: string } {
  return { admin: caller.scopes.includes("admin") ? 1 : 0, user: caller.user, groups: JSON.stringify(caller.groups) };
}

export class KbRegistry {
  private readonly handles = new Map<string, Handle>();
  readonly root: string;

  constructor(
    private readonly db: Database.Database,
    dataDir: string,
  ) {
    this.root = resolve(dataDir, "kbs");
  }

  private dirOf(name: string): string {
    return join(this.root, checkKbName(name));
  }

  private membersOf(name: string): KbMembers {
    const rows = this.db.prepare("SELECT kind, principal FROM kb_members WHERE kb = ? ORDER BY kind, principal").all(name) as { kind: string; principal: string }[];
    return { users: rows.filter((r) => r.kind === "user").map((r) => r.principal), groups: rows.filter((r) => r.kind === "group").map((r) => r.principal) };
  }

  private info(r: KbRow): KbInfo {
    return { name: r.name, createdAt: r.created_at, createdBy: r.created_by, members: this.membersOf(r.name) };
  }

  /** Bases the caller may use, by name. */
  listUsable(caller: Caller): KbInfo[] {
    const rows = this.db.prepare(`SELECT k.name, k.created_at, k.created_by FROM kbs k WHERE ${MEMBER_SQL} ORDER BY k.name`).all(memberParams(caller)) as KbRow[];
    return rows.map((r) => this.info(r));
  }

  /** The base if it exists and the caller may use it; NOT_FOUND either way otherwise. */
  find(name: string, caller: Caller): KbInfo {
    const row = KB_NAME_PATTERN.test(name)
      ? (this.db.prepare(`SELECT k.name, k.created_at, k.created_by FROM kbs k WHERE k.name = @name AND ${MEMBER_SQL}`).get({ name, ...memberParams(caller) }) as KbRow | undefined)
      : undefined;
    if (!row) throw new ServerError("NOT_FOUND", `there is no knowledge base "${name.slice(0, 80)}" that you may use`, "list the ones you may use with GET /api/kbs");
    return this.info(row);
  }

  /** Creates a base (or adopts an existing Strata store already in its folder). */
  create(name: string, members: KbMembers, createdBy: string): KbInfo {
    checkKbName(name);
    for (const u of members.users) checkName("user", u);
    for (const g of members.groups) checkName("group", g);
    if (this.db.prepare("SELECT 1 FROM kbs WHERE name = ?").get(name)) throw new ServerError("CONFLICT", `knowledge base ${name} already exists`, "choose another name, or delete it first");
    // Opening with create makes the store, or opens one an operator put there with `strata ingest`.
    let kb: KnowledgeBase;
    try {
      kb = KnowledgeBase.open(this.dirOf(name), { create: true });
    } catch (e) {
      if (e instanceof StrataError && e.code === "NOT_A_STORE") throw new ServerError("CONFLICT", `the folder for knowledge base ${name} exists and is not a knowledge base`, "choose another name, or ask the operator to move that folder out of the data folder's kbs/");
      throw e;
    }
    let info: KbInfo;
    try {
      info = this.register(name, createdBy, members);
    } catch (e) {
      kb.close();
      throw e;
    }
    this.handles.set(name, { kb, users: 0, closing: false });
    return info;
  }

  /** Every registered base (offline administration: `strata serve kbs list`). */
  listAll(): KbInfo[] {
    const rows = this.db.prepare("SELECT name, created_at, created_by FROM kbs ORDER BY name").all() as KbRow[];
    return rows.map((r) => this.info(r));
  }

  /**
   * Copies an existing knowledge-base folder into kbs/<name>/ and registers it. The source is
   * opened read-only and checked by the knowledge layer first (not a base, newer, damaged: a clear
   * error, nothing changed); the copy is made with SQLite's backup API — consistent even while the
   * source is being written, unlike a copy of a WAL database's files — into a hidden staging folder,
   * checked again, then renamed into place, and only then registered. Any failure removes the
   * staging folder, and a failed registration removes the renamed one, so neither a half copy nor a
   * registry row is left behind.
   */
  async importFrom(source: string, name: string, members: KbMembers, createdBy: string): Promise<KbImport> {
    checkKbName(name);
    for (const u of members.users) checkName("user", u);
    for (const g of members.groups) checkName("group", g);
    const from = resolve(source);
    if (!existsSync(from)) throw new StrataError("NOT_FOUND", `${source} does not exist`, "pass the folder made by `strata ingest <files> --kb <folder>`");
    if (!statSync(from).isDirectory()) throw new StrataError("NOT_A_STORE", `${source} is a file, not a knowledge-base folder`, "pass the folder made by `strata ingest <files> --kb <folder>`");
    if (this.db.prepare("SELECT 1 FROM kbs WHERE name = ?").get(name)) throw new ServerError("CONFLICT", `knowledge base ${name} already exists`, "choose another --name, or delete that base first; nothing was changed");
    const target = this.dirOf(name);
    if (existsSync(target)) throw new ServerError("CONFLICT", `the folder ${target} already exists (not registered)`, "move it out of the data folder's kbs/ or choose another --name; nothing was changed");
    checkSource(from, source);

    mkdirSync(this.root, { recursive: true });
    // A leading "." never matches KB_NAME_PATTERN, so a staging folder can never be served or adopted.
    const staging = join(this.root, `.import-${name}-${randomBytes(4).toString("hex")}`);
    mkdirSync(staging);
    let documents: number;
    try {
      await backupStore(from, join(staging, STORE_FILE), source);
      documents = checkCopy(staging, source);
      renameSync(staging, target);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw e;
    }
    let info: KbInfo;
    try {
      info = this.register(name, createdBy, members);
    } catch (e) {
      rmSync(target, { recursive: true, force: true });
      throw e;
    }
    return { ...info, documents, source: from };
  }

  /** The registry row and member list of a base whose folder is in place, in one transaction. */
  private register(name: string, createdBy: string, members: KbMembers): KbInfo {
    this.db.transaction(() => {
      this.db.prepare("INSERT INTO kbs (name, created_at, created_by) VALUES (?, ?, ?)").run(name, new Date().toISOString(), createdBy);
      this.putMembers(name, members);
    })();
    return this.info(this.db.prepare("SELECT name, created_at, created_by FROM kbs WHERE name = ?").get(name) as KbRow);
  }

  private putMembers(name: string, members: KbMembers): void {
    this.db.prepare("DELETE FROM kb_members WHERE kb = ?").run(name);
    const put = this.db.prepare("INSERT OR IGNORE INTO kb_members (kb, kind, principal) VALUES (?, ?, ?)");
    for (const u of members.users) put.run(name, "user", u);
    for (const g of members.groups) put.run(name, "group", g);
  }

  /** Replaces a base's members (admin). */
  setMembers(name: string, members: KbMembers, caller: Caller): KbInfo {
    this.find(name, caller);
    for (const u of members.users) checkName("user", u);
    for (const g of members.groups) checkName("group", g);
    this.db.transaction(() => this.putMembers(name, members))();
    return this.find(name, caller);
  }

  /** Deletes a base: its registry row at once, its folder when the requests using it are done. */
  async delete(name: string, caller: Caller): Promise<void> {
    this.find(name, caller);
    this.db.prepare("DELETE FROM kbs WHERE name = ?").run(name);
    await this.release(name);
    rmSync(this.dirOf(name), { recursive: true, force: true });
  }

  private async release(name: string): Promise<void> {
    const h = this.handles.get(name);
    if (!h) return;
    this.handles.delete(name);
    h.closing = true;
    if (h.users > 0) await new Promise<void>((r) => (h.drained = r));
    h.kb.close();
  }

  private open(name: string): Handle {
    let h = this.handles.get(name);
    if (!h) {
      const dir = this.dirOf(name);
      if (!existsSync(dir)) throw new ServerError("NOT_FOUND", `knowledge base ${name} is registered but its folder ${dir} is missing`, "restore the folder, or delete and recreate the knowledge base");
      h = { kb: KnowledgeBase.open(dir), users: 0, closing: false };
      this.handles.set(name, h);
    }
    return h;
  }

  /** Runs `fn` on the base if the caller may use it (else NOT_FOUND), holding it open meanwhile. */
  async use<T>(name: string, caller: Caller, fn: (kb: KnowledgeBase, info: KbInfo) => Promise<T> | T): Promise<T> {
    const info = this.find(name, caller);
    const h = this.open(info.name);
    h.users++;
    try {
      return await fn(h.kb, info);
    } finally {
      h.users--;
      if (h.closing && h.users === 0) h.drained?.();
    }
  }

  /** Runs `fn` on every base the caller may use, one at a time. */
  async eachUsable<T>(caller: Caller, fn: (kb: KnowledgeBase, info: KbInfo) => Promise<T> | T): Promise<T[]> {
    const out: T[] = [];
    for (const info of this.listUsable(caller)) {
      try {
        out.push(await this.use(info.name, caller, fn));
      } catch (e) {
        // A base deleted meanwhile is simply gone from the list.
        if (!(e instanceof ServerError && e.code === "NOT_FOUND")) throw e;
      }
    }
    return out;
  }

  /** Closes every open store after the requests holding them finish. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((n) => this.release(n)));
  }
}

/** The knowledge layer's verdict on a folder, read-only: a base, from this Strata or an older one. */
function checkSource(dir: string, shown: string): void {
  try {
    KnowledgeBase.open(dir, { readonly: true }).close();
  } catch (e) {
    // An older schema is fine: the copy is migrated when it is opened, the source stays as it is.
    if (e instanceof StrataError && e.code === "STORE_OUTDATED") return;
    if (e instanceof StrataError && e.code === "NOT_A_STORE") throw new StrataError(e.code, e.message.replace(dir, shown), "pass the folder made by `strata ingest <files> --kb <folder>`; nothing was changed");
    if (e instanceof StrataError) throw new StrataError(e.code, e.message.replace(dir, shown), e.hint);
    throw e;
  }
}

/** SQLite's online backup of the source's database into `file` (pages copied under a read lock). */
async function backupStore(dir: string, file: string, shown: string): Promise<void> {
  let src: Database.Database | undefined;
  try {
    src = new Database(join(dir, STORE_FILE), { readonly: true, fileMustExist: true });
    await src.backup(file);
  } catch (e) {
    throw new StrataError("STORE_CORRUPT", `${shown} could not be copied: ${(e as Error).message}`, "check the folder with `strata search --kb <folder>`, or re-ingest its sources into a new knowledge base");
  } finally {
    src?.close();
  }
}

/** Opens the copy as the server will (migrating an older schema) and checks every page of it. */
function checkCopy(dir: string, shown: string): number {
  const kb = KnowledgeBase.open(dir);
  try {
    const check = kb.store.integrityCheck();
    if (!check.ok) throw new StrataError("STORE_CORRUPT", `${shown} is damaged: ${check.problems.slice(0, 3).join("; ")}`, "restore the folder from a backup, or re-ingest its sources into a new knowledge base");
    return check.documents;
  } finally {
    kb.close();
  }
}
