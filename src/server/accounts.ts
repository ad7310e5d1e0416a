// Users, groups and API keys. A key is shown once, when it is made; the database keeps only its
// scrypt hash (salted, node:crypto), so a copy of server.db gives nobody a working key. A request's
// key is found by the id inside it, checked with a constant-time compare, then its revocation,
// expiry, user and groups are read fresh, so a revoked key or a changed group applies at once.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type Database from "better-sqlite3";
import type { Principal } from "../knowledge/types.js";
import { ServerError } from "./errors.js";

export type Scope = "read" | "ingest" | "admin";
export const SCOPES: readonly Scope[] = ["read", "ingest", "admin"];

/** The user the first start creates; it holds the admin key. */
export const ADMIN_USER = "admin";

/** User and group names: short, printable, safe in logs, paths and SQL parameters alike. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface UserInfo {
  name: string;
  groups: string[];
  createdAt: string;
}

export type KeyOrigin = "api" | "first-start" | "env" | "cli";

export interface KeyInfo {
  id: string;
  user: string;
  scopes: Scope[];
  name: string | null;
  origin: KeyOrigin;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Who is calling: the key, its user, the user's groups now, and the key's scopes. */
export interface Caller {
  keyId: string;
  user: string;
  groups: string[];
  scopes: Scope[];
  /** What the knowledge stores check documents against; never OWNER. */
  principal: Principal;
}

// scrypt cost: N = 2^14, r = 8 (≈ 16 MiB, ≈ 40–60 ms here). Verified keys are remembered in memory
// (as a SHA-256 of the presented key, never the key) so only a key's first request pays it.
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const HASH_BYTES = 32;
const KEY_PATTERN = /^strata_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** Shortest key accepted from STRATA_ADMIN_KEY. */
export const MIN_ENV_KEY_LENGTH = 24;
const VERIFIED_CACHE_SIZE = 10_000;

function scryptAsync(secret: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, HASH_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashKey(key: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(key, salt, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** Whether `key` matches a stored hash; the comparison takes the same time wherever they differ. */
export async function verifyKey(key: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4]!, "base64url");
  const expected = Buffer.from(parts[5]!, "base64url");
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || expected.length !== HASH_BYTES) return false;
  const actual = await scryptAsync(key, salt, { N, r, p, maxmem: SCRYPT.maxmem });
  return timingSafeEqual(actual, expected);
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

function unauthorized(message: string, hint: string): ServerError {
  return new ServerError("UNAUTHORIZED", message, hint, { "www-authenticate": 'Bearer realm="strata"' });
}

export function checkName(kind: "user" | "group", name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new ServerError("USAGE", `${kind} name "${name.slice(0, 80)}" is not valid`, "use 1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit");
  }
  return name;
}

function parseScopes(json: string): Scope[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((s): s is Scope => SCOPES.includes(s as Scope)) : [];
  } catch {
    return [];
  }
}

interface KeyRow {
  id: string;
  user: string;
  hash: string;
  scopes: string;
  origin: string;
  name: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  check_hash: string | null;
}

/**
 * What a token is, found without any slow hash: "valid" (its row), "invalid" (wrong format,
 * unknown key id, or a fast check that failed), or "needs-hash" (a chosen key or a key from
 * before schema 2, checked with scrypt; `keyId` is the non-secret id the failures count against).
 */
export type Precheck = { state: "valid"; row: KeyRowRef } | { state: "invalid" } | { state: "needs-hash"; keyId: string };
/** A key row, opaque outside this file. */
export interface KeyRowRef {
  readonly id: string;
}

function keyInfo(r: KeyRow): KeyInfo {
  return {
    id: r.id,
    user: r.user,
    scopes: parseScopes(r.scopes),
    name: r.name,
    origin: (["api", "first-start", "env", "cli"].includes(r.origin) ? r.origin : "api") as KeyOrigin,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

export interface NewKey {
  user: string;
  scopes: readonly Scope[];
  expiresAt?: string | null;
  name?: string | null;
  origin?: KeyOrigin;
}

export class Accounts {
  /** key id → SHA-256 of the key that last verified; cleared for a key when it is revoked. */
  private readonly verified = new Map<string, Buffer>();
  /** Verifications under way, so many first requests with one key share one scrypt. */
  private readonly verifying = new Map<string, Promise<boolean>>();
  /** SHA-256 of the STRATA_ADMIN_KEY this process was started with: bogus tokens fail without scrypt. */
  private envDigest: Buffer | undefined;

  constructor(private readonly db: Database.Database) {}

  // ---------- users ----------

  private groupsOf(user: string): string[] {
    return (this.db.prepare("SELECT grp FROM user_groups WHERE user = ? ORDER BY grp").all(user) as { grp: string }[]).map((r) => r.grp);
  }

  getUser(name: string): UserInfo | undefined {
    const row = this.db.prepare("SELECT name, created_at FROM users WHERE name = ?").get(name) as { name: string; created_at: string } | undefined;
    return row && { name: row.name, groups: this.groupsOf(row.name), createdAt: row.created_at };
  }

  listUsers(): UserInfo[] {
    const rows = this.db.prepare("SELECT name, created_at FROM users ORDER BY name").all() as { name: string; created_at: string }[];
    return rows.map((r) => ({ name: r.name, groups: this.groupsOf(r.name), createdAt: r.created_at }));
  }

  createUser(name: string, groups: readonly string[]): UserInfo {
    checkName("user", name);
    for (const g of groups) checkName("group", g);
    return this.db.transaction(() => {
      if (this.getUser(name)) throw new ServerError("CONFLICT", `user ${name} already exists`, `change its groups with PUT /api/users/${name}`);
      this.db.prepare("INSERT INTO users (name, created_at) VALUES (?, ?)").run(name, new Date().toISOString());
      const put = this.db.prepare("INSERT OR IGNORE INTO user_groups (user, grp) VALUES (?, ?)");
      for (const g of groups) put.run(name, g);
      return this.getUser(name)!;
    })();
  }

  setGroups(name: string, groups: readonly string[]): UserInfo {
    for (const g of groups) checkName("group", g);
    return this.db.transaction(() => {
      if (!this.getUser(name)) throw new ServerError("NOT_FOUND", `there is no user ${name}`, "list users with GET /api/users");
      this.db.prepare("DELETE FROM user_groups WHERE user = ?").run(name);
      const put = this.db.prepare("INSERT OR IGNORE INTO user_groups (user, grp) VALUES (?, ?)");
      for (const g of groups) put.run(name, g);
      return this.getUser(name)!;
    })();
  }

  // ---------- keys ----------

  /** Makes a key; the returned `key` is the only time it exists in clear. */
  async createKey(k: NewKey): Promise<{ info: KeyInfo; key: string }> {
    const id = randomBytes(8).toString("hex");
    const key = `strata_${id}_${randomBytes(32).toString("base64url")}`;
    return { info: await this.storeKey(id, key, k), key };
  }

  private async storeKey(id: string, key: string, k: NewKey): Promise<KeyInfo> {
    if (!this.getUser(k.user)) throw new ServerError("NOT_FOUND", `there is no user ${k.user}`, "create the user first (POST /api/users)");
    const scopes = [...new Set(k.scopes)];
    if (scopes.length === 0) throw new ServerError("USAGE", "a key needs at least one scope", `choose from ${SCOPES.join(", ")}`);
    for (const s of scopes) if (!SCOPES.includes(s)) throw new ServerError("USAGE", `unknown scope "${s}"`, `choose from ${SCOPES.join(", ")}`);
    let expiresAt: string | null = null;
    if (k.expiresAt) {
      const t = Date.parse(k.expiresAt);
      if (!Number.isFinite(t)) throw new ServerError("USAGE", `expiresAt "${k.expiresAt}" is not a date`, "use ISO 8601, e.g. 2030-01-31T00:00:00Z");
      if (t <= Date.now()) throw new ServerError("USAGE", `expiresAt ${k.expiresAt} is in the past`, "choose a time in the future, or leave it out for a key that does not expire");
      expiresAt = new Date(t).toISOString();
    }
    const hash = await hashKey(key);
    const check = KEY_PATTERN.test(key) ? digest(key).toString("hex") : null;
    this.db
      .prepare("INSERT INTO api_keys (id, user, hash, scopes, origin, name, created_at, expires_at, check_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(id, k.user, hash, JSON.stringify(scopes), k.origin ?? "api", k.name ?? null, new Date().toISOString(), expiresAt, check);
    return this.getKey(id)!;
  }

  getKey(id: string): KeyInfo | undefined {
    const row = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as KeyRow | undefined;
    return row && keyInfo(row);
  }

  /** Keys without secrets or hashes; one user's when `user` is given. */
  listKeys(user?: string): KeyInfo[] {
    const rows = (user === undefined
      ? this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id").all()
      : this.db.prepare("SELECT * FROM api_keys WHERE user = ? ORDER BY created_at, id").all(user)) as KeyRow[];
    return rows.map(keyInfo);
  }

  /** Revokes a key; false when there is no such key. Takes effect on the next request. */
  revokeKey(id: string): boolean {
    const r = this.db.prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?").run(new Date().toISOString(), id);
    this.verified.delete(id);
    return r.changes > 0;
  }

  /** Active keys (not revoked, not expired) with the admin scope. */
  activeAdminKeys(): number {
    return this.listKeys().filter((k) => !k.revokedAt && (!k.expiresAt || Date.parse(k.expiresAt) > Date.now()) && k.scopes.includes("admin")).length;
  }

  /**
   * Makes sure an admin can get in. With `envKey` (STRATA_ADMIN_KEY) that key is the admin key:
   * stored hashed if new, replacing (revoking) an earlier env key. Without it, the first start
   * makes a key and returns it, for the caller to print once.
   */
  async ensureAdmin(opts: { envKey?: string; firstStart: boolean }): Promise<{ createdKey?: string; activeAdminKeys: number }> {
    if (!this.getUser(ADMIN_USER)) this.createUser(ADMIN_USER, []);
    if (opts.envKey !== undefined) {
      const envKey = opts.envKey;
      this.envDigest = digest(envKey);
      if (envKey.length < MIN_ENV_KEY_LENGTH || /\s/.test(envKey)) {
        throw new ServerError("USAGE", `STRATA_ADMIN_KEY must be at least ${MIN_ENV_KEY_LENGTH} characters without spaces`, "generate one, e.g. `openssl rand -base64 32`");
      }
      const envRows = this.db.prepare("SELECT * FROM api_keys WHERE origin = 'env' AND revoked_at IS NULL").all() as KeyRow[];
      let current = false;
      for (const r of envRows) {
        if (await verifyKey(envKey, r.hash)) {
          current = true;
          this.verified.set(r.id, this.envDigest);
        } else this.revokeKey(r.id);
      }
      if (!current) {
        const info = await this.storeKey(randomBytes(8).toString("hex"), envKey, { user: ADMIN_USER, scopes: SCOPES, origin: "env", name: "STRATA_ADMIN_KEY" });
        this.verified.set(info.id, this.envDigest);
      }
      return { activeAdminKeys: this.activeAdminKeys() };
    }
    if (opts.firstStart) {
      const { key } = await this.createKey({ user: ADMIN_USER, scopes: SCOPES, origin: "first-start", name: "first start" });
      return { createdKey: key, activeAdminKeys: this.activeAdminKeys() };
    }
    return { activeAdminKeys: this.activeAdminKeys() };
  }

  /** Classifies a token in microseconds (SHA-256 at most), before any rate limit or scrypt. */
  precheck(token: string): Precheck {
    const d = digest(token);
    const m = KEY_PATTERN.exec(token);
    if (m) {
      const row = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(m[1]) as KeyRow | undefined;
      if (!row) return { state: "invalid" };
      const seen = this.verified.get(row.id);
      if (seen && timingSafeEqual(seen, d)) return { state: "valid", row };
      if (row.check_hash) return timingSafeEqual(Buffer.from(row.check_hash, "hex"), d) ? { state: "valid", row } : { state: "invalid" };
      return { state: "needs-hash", keyId: row.id };
    }
    if (token.length < MIN_ENV_KEY_LENGTH || token.length > 1024) return { state: "invalid" };
    const envRows = this.db.prepare("SELECT * FROM api_keys WHERE origin = 'env' AND revoked_at IS NULL").all() as KeyRow[];
    if (envRows.length === 0) return { state: "invalid" };
    for (const row of envRows) {
      const seen = this.verified.get(row.id);
      if (seen && timingSafeEqual(seen, d)) return { state: "valid", row };
    }
    // Started with STRATA_ADMIN_KEY: that is the one env key (older ones were revoked), so a different token is wrong.
    if (this.envDigest) return timingSafeEqual(this.envDigest, d) ? { state: "needs-hash", keyId: "env" } : { state: "invalid" };
    return { state: "needs-hash", keyId: "env" };
  }

  /** The caller a bearer token stands for; any failure is UNAUTHORIZED with the reason. */
  async authenticate(token: string, pre: Precheck = this.precheck(token)): Promise<Caller> {
    const row = pre.state === "valid" ? (pre.row as KeyRow) : pre.state === "invalid" ? undefined : await this.findVerified(token);
    if (!row) throw unauthorized("the API key is not valid", "check the key (it is shown once, when it is created); an admin can make a new one");
    if (row.revoked_at) throw unauthorized("the API key has been revoked", "ask an admin for a new key");
    if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) throw unauthorized(`the API key expired at ${row.expires_at}`, "ask an admin for a new key");
    const groups = this.groupsOf(row.user);
    return { keyId: row.id, user: row.user, groups, scopes: parseScopes(row.scopes), principal: { user: row.user, groups } };
  }

  private async findVerified(token: string): Promise<KeyRow | undefined> {
    const m = KEY_PATTERN.exec(token);
    const candidates = m
      ? (this.db.prepare("SELECT * FROM api_keys WHERE id = ?").all(m[1]) as KeyRow[])
      : token.length >= MIN_ENV_KEY_LENGTH && token.length <= 1024
        ? (this.db.prepare("SELECT * FROM api_keys WHERE origin = 'env' AND revoked_at IS NULL").all() as KeyRow[])
        : [];
    const d = digest(token);
    for (const row of candidates) {
      const seen = this.verified.get(row.id);
      if (seen && timingSafeEqual(seen, d)) return row;
      const slot = `${row.id}:${d.toString("hex")}`;
      let check = this.verifying.get(slot);
      if (!check) {
        check = verifyKey(token, row.hash).finally(() => this.verifying.delete(slot));
        this.verifying.set(slot, check);
      }
      if (await check) {
        if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(row.id, d);
        // A key from before schema 2 gets its fast check now: it never pays scrypt again.
        if (m && !row.check_hash) this.db.prepare("UPDATE api_keys SET check_hash = ? WHERE id = ? AND check_hash IS NULL").run(d.toString("hex"), row.id);
        return row;
      }
    }
    return undefined;
  }
}
