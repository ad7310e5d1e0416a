// The few things the PostgreSQL store asks of a connection: run a parameterised query, and run a
// function inside one transaction. Two implementations: a `pg` pool (servers) and PGlite (the
// in-process WASM PostgreSQL the tests use for pgvector, which Debian's server lacks). The store is
// written once against this interface, so the SQL production runs is the SQL the tests run.
import pg from "pg";
import { StrataError } from "../../../core/errors.js";

export type Row = Record<string, unknown>;

export interface SqlRunner {
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface TxOptions {
  /** A read-only snapshot (repeatable read): every statement sees the same committed state. */
  snapshot?: boolean;
}

export interface SqlClient extends SqlRunner {
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>, opts?: TxOptions): Promise<T>;
  /** Whether `create extension vector` worked here. */
  readonly kind: "pg" | "pglite";
  close(): Promise<void>;
}

/** The location with any password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

/** A one-line StrataError for a connection or server failure, naming the cause. */
export function connectionError(url: string, e: unknown): StrataError {
  const err = e as { code?: string; message?: string };
  const where = redactUrl(url);
  const msg = (err.message ?? String(e)).split("\n")[0]!;
  switch (err.code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
      return new StrataError("BACKEND_UNAVAILABLE", `cannot reach PostgreSQL at ${where}: ${err.code}`, "check the host and port, and that the server is running and accepts TCP connections", { cause: e });
    case "28P01":
    case "28000":
      return new StrataError("FORBIDDEN", `PostgreSQL refused the login at ${where}: ${msg}`, "check the user and password in the URL (postgres://user:password@host/db)", { cause: e });
    case "3D000":
      return new StrataError("NOT_A_STORE", `PostgreSQL at ${where}: ${msg}`, "create the database first (createdb <name>) or name an existing one in the URL", { cause: e });
    case "42501":
      return new StrataError("FORBIDDEN", `PostgreSQL at ${where} lacks a right Strata needs: ${msg}`, "grant the user CREATE on the database (or run the migration once as its owner)", { cause: e });
    case "57P01":
    case "57P03":
      return new StrataError("BACKEND_UNAVAILABLE", `PostgreSQL at ${where} is shutting down or starting: ${msg}`, "retry in a moment; the server was restarted", { cause: e });
    default:
      return new StrataError("BACKEND_UNAVAILABLE", `PostgreSQL at ${where} failed: ${msg}`, "check the server's log; retry once it is healthy", { cause: e });
  }
}

/** Errors that mean the connection went away, not that the statement was wrong: worth one retry. */
export function isConnectionLoss(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  const msg = (e as { message?: string }).message ?? "";
  return code === "57P01" || code === "57P03" || code === "ECONNRESET" || code === "ECONNREFUSED" || code === "EPIPE" || /Connection terminated|connection is closed|Client has encountered a connection error/i.test(msg);
}

// 64-bit counts and sums come back as strings from pg; the store's numbers stay below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** A `pg` pool. Connections are made lazily; a lost connection is replaced by the pool. */
export class PgPoolClient implements SqlClient {
  readonly kind = "pg" as const;
  private readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    opts: { max?: number; schema?: string } = {},
  ) {
    // Every connection starts in the knowledge base's schema (a server-side setting, so no query is spent on it).
    const options = opts.schema ? `-c search_path=${opts.schema},public` : undefined;
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000, ...(options ? { options } : {}) });
    // An idle connection dropped by a server restart is an event, not a crash of the process.
    this.pool.on("error", () => {});
  }

  async query<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const c = await this.pool.connect();
    let broken = false;
    // A checked-out client reports a dropped connection as an 'error' event as well as through the
    // pending query; without a listener that event would end the process.
    const onError = (): void => void (broken = true);
    c.on("error", onError);
    try {
      await c.query(opts.snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
      const r = await fn({ query: async <R = Row>(sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows as R[] });
      if (opts.snapshot) {
        // A read-only snapshot has nothing to make durable: the caller need not wait for COMMIT's
        // reply. The connection's queue keeps the next borrower's statements behind it.
        c.query("COMMIT").catch(() => undefined);
        return r;
      }
      await c.query("COMMIT");
      return r;
    } catch (e) {
      broken = isConnectionLoss(e);
      if (!broken) await c.query("ROLLBACK").catch(() => (broken = true));
      throw e;
    } finally {
      c.off("error", onError);
      c.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The subset of PGlite's API the store uses (typed here so `pg` users never load PGlite). */
export interface PGliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite: one in-process connection, so transactions already run one at a time. */
export class PGliteClient implements SqlClient {
  readonly kind = "pglite" as const;
  constructor(
    private readonly db: PGliteLike,
    private readonly owned = false,
  ) {}

  async query<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params)).rows;
  }

  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn({ query: async <R = Row>(sql: string, params: unknown[] = []) => (await tx.query<R>(sql, params)).rows }));
  }

  async close(): Promise<void> {
    if (this.owned) await this.db.close();
  }
}
