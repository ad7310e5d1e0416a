// The PostgreSQL store's tables, one knowledge base per PostgreSQL schema (default `strata`), and
// their versioned migrations, run on open inside one transaction under an advisory lock: two
// processes opening a new database at once migrate it once. A database written by a newer Strata
// is refused, never misread. The layout mirrors the embedded store (schema.ts) so the same rows
// mean the same things; the lexical index is the same segments of postings blobs (decision 0008).
import { StrataError } from "../../../core/errors.js";
import { ANALYZER_VERSION } from "../../analyzer.js";
import { STORE_FORMAT } from "../schema.js";
import type { SqlClient, SqlRunner } from "./sql.js";

export const PG_SCHEMA_VERSION = 1;

const V1 = `
CREATE TABLE strata_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE documents (
  rowid bigserial PRIMARY KEY,
  doc_id text NOT NULL UNIQUE,
  source text NOT NULL UNIQUE,
  title text NOT NULL,
  mime text NOT NULL,
  hash text NOT NULL,
  version integer NOT NULL,
  ingested_at text NOT NULL,
  size bigint NOT NULL,
  is_public boolean NOT NULL,
  text text NOT NULL
);
CREATE TABLE doc_acl (
  doc_rowid bigint NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('user', 'group')),
  principal text NOT NULL,
  PRIMARY KEY (doc_rowid, kind, principal)
);
CREATE INDEX doc_acl_by_principal ON doc_acl (kind, principal, doc_rowid);
CREATE TABLE doc_tags (
  doc_rowid bigint NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  tag text NOT NULL,
  PRIMARY KEY (doc_rowid, tag)
);
CREATE INDEX doc_tags_by_tag ON doc_tags (tag, doc_rowid);
CREATE TABLE chunks (
  rowid bigint PRIMARY KEY,
  chunk_id text NOT NULL UNIQUE,
  doc_rowid bigint NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  heading_path text NOT NULL,
  start integer NOT NULL,
  "end" integer NOT NULL,
  page integer,
  text text NOT NULL,
  token_count integer NOT NULL,
  len_body integer NOT NULL,
  len_title integer NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks (doc_rowid, ordinal);
CREATE TABLE terms (term_id serial PRIMARY KEY, term text NOT NULL UNIQUE, df integer NOT NULL);
CREATE TABLE stats (id integer PRIMARY KEY CHECK (id = 1), chunks bigint NOT NULL, sum_len_body bigint NOT NULL, sum_len_title bigint NOT NULL);
INSERT INTO stats VALUES (1, 0, 0, 0);
CREATE TABLE lex_segments (seg_id integer PRIMARY KEY, min_rowid bigint NOT NULL, max_rowid bigint NOT NULL, chunks integer NOT NULL, level integer NOT NULL);
CREATE TABLE lex_postings (seg_id integer NOT NULL, term_id integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (seg_id, term_id));
CREATE TABLE lex_tombstones (generation bigint NOT NULL, chunk_rowid bigint NOT NULL, PRIMARY KEY (generation, chunk_rowid));
CREATE TABLE lex_state (id integer PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL, next_chunk_rowid bigint NOT NULL, next_seg_id integer NOT NULL);
INSERT INTO lex_state VALUES (1, 1, 1, 1);
CREATE TABLE embedding_models (model_id text PRIMARY KEY, dimensions integer NOT NULL, created_at text NOT NULL);
CREATE TABLE chunk_vectors (
  model_id text NOT NULL REFERENCES embedding_models(model_id) ON DELETE CASCADE,
  chunk_rowid bigint NOT NULL REFERENCES chunks(rowid) ON DELETE CASCADE,
  vector bytea NOT NULL,
  PRIMARY KEY (model_id, chunk_rowid)
);
CREATE INDEX chunk_vectors_by_chunk ON chunk_vectors (chunk_rowid);
CREATE TABLE conversations (id text PRIMARY KEY, owner text NOT NULL, created_at text NOT NULL, updated_at text NOT NULL);
CREATE INDEX conversations_by_owner ON conversations (owner, updated_at);
CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  role text NOT NULL,
  content text NOT NULL,
  data text,
  created_at text NOT NULL,
  UNIQUE (conversation_id, ordinal)
);
CREATE TABLE traces (id text PRIMARY KEY, kind text NOT NULL, owner text NOT NULL, created_at text NOT NULL, data text NOT NULL);
CREATE INDEX traces_by_time ON traces (created_at);
`;

/** Migration from version n to n + 1 is MIGRATIONS[n]; version 0 is an empty schema. */
const MIGRATIONS: string[] = [V1];

/** A schema name safe to put in SQL unquoted (we also quote it). */
export function checkSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new StrataError("USAGE", `"${name}" is not a usable PostgreSQL schema name for a knowledge base`, "use lower-case letters, digits and _ (e.g. ?schema=support_kb)");
  }
  return name;
}

async function metaOf(tx: SqlRunner, schema: string): Promise<Map<string, string> | undefined> {
  const exists = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'strata_meta'", [schema]);
  if (exists[0]!.n === 0) return undefined;
  const rows = await tx.query<{ key: string; value: string }>(`SELECT key, value FROM "${schema}".strata_meta`);
  return new Map(rows.map((r) => [r.key, r.value]));
}

export interface MigrateOptions {
  /** Create the tables when the schema holds none (ingest); otherwise the knowledge base must exist. */
  create: boolean;
  /** Where the store is, for messages. */
  where: string;
}

/**
 * Brings the schema to PG_SCHEMA_VERSION (creating it when allowed), in one transaction under an
 * advisory lock, and checks it is ours. Returns the version found before (0 = created now).
 */
export async function migrate(db: SqlClient, schema: string, opts: MigrateOptions): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`strata-migrate:${schema}`]);
    const meta = await metaOf(tx, schema);
    if (!meta) {
      const tables = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1", [schema]);
      if (tables[0]!.n > 0) throw new StrataError("NOT_A_STORE", `${opts.where}: schema "${schema}" holds tables but is not a Strata knowledge base`, "name another schema (?schema=...) or an empty database");
      if (!opts.create) throw new StrataError("NOT_A_STORE", `no knowledge base at ${opts.where}`, `create one with \`strata ingest <path> --kb ${opts.where}\``);
    } else {
      if (meta.get("format") !== STORE_FORMAT) throw new StrataError("NOT_A_STORE", `${opts.where} is not a Strata knowledge base (format ${meta.get("format") ?? "none"})`, "name another schema or database");
      const found = Number(meta.get("schema_version"));
      if (!Number.isInteger(found)) throw new StrataError("STORE_CORRUPT", `${opts.where}: the store's schema version is unreadable`, "restore the database from a backup or ingest into a new one");
      if (found > PG_SCHEMA_VERSION) {
        throw new StrataError("STORE_TOO_NEW", `${opts.where} was written by a newer Strata (schema ${found}; this one reads up to ${PG_SCHEMA_VERSION})`, "upgrade Strata to open it; nothing in the store was changed");
      }
      if (meta.get("analyzer") !== ANALYZER_VERSION) {
        throw new StrataError("STORE_TOO_NEW", `${opts.where} was indexed with analyzer ${meta.get("analyzer")}, this Strata uses ${ANALYZER_VERSION}`, "re-ingest the sources into a new knowledge base");
      }
    }
    const from = meta ? Number(meta.get("schema_version")) : 0;
    if (from === PG_SCHEMA_VERSION) return from;
    await tx.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await tx.query(`SET LOCAL search_path TO "${schema}"`);
    // One statement at a time: PGlite's parameterised protocol takes one per call.
    for (let v = from; v < PG_SCHEMA_VERSION; v++) {
      for (const st of MIGRATIONS[v]!.split(";\n")) if (st.trim()) await tx.query(st);
    }
    const put = "INSERT INTO strata_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    await tx.query(put, ["format", STORE_FORMAT]);
    await tx.query(put, ["schema_version", String(PG_SCHEMA_VERSION)]);
    await tx.query(put, ["analyzer", ANALYZER_VERSION]);
    return from;
  });
}
