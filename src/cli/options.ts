// Parsing of the flags several commands share; bad values are usage errors with the fix.
import { OWNER, type Access } from "../knowledge/store/access.js";
import { usageError } from "./errors.js";

export function parseList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** --as and --groups: without --as the CLI acts as the local store's owner and sees everything. */
export function parseAccess(opts: { as?: string; groups?: string }): Access {
  if (opts.as === undefined) {
    if (opts.groups) throw usageError("--groups needs --as <user>", "add --as <user>, e.g. --as dana --groups research");
    return OWNER;
  }
  const user = opts.as.trim();
  if (!user) throw usageError("--as needs a user name", "e.g. --as dana");
  return { user, groups: parseList(opts.groups) };
}

export function parsePositiveInt(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw usageError(`${name} must be a whole number from 1 to ${max}, got "${value}"`, `e.g. ${name} ${fallback}`);
  return n;
}

export function parseByteSize(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?$/i.exec(value.trim());
  if (!m) throw usageError(`${name} must be a size like 50MB or 1GB, got "${value}"`, `e.g. ${name} 100MB`);
  const unit = (m[2] ?? "").toLowerCase()[0];
  const mult = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * mult);
}

export function requireKb(kb: string | undefined): string {
  if (!kb) throw usageError("--kb <dir> is required", "name the knowledge-base folder or a postgres:// URL, e.g. --kb ./kb");
  return kb;
}
