import { createHash } from "node:crypto";

/** Hex SHA-256 of bytes or a string; content hashes and stable ids are built on it. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A short stable id derived from a key: the same source always gets the same document id. */
export function stableId(prefix: string, key: string, length = 16): string {
  return `${prefix}_${sha256(key).slice(0, length)}`;
}
