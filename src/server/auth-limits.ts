// Failed authentications, counted per client address and per key id before any slow hash: a
// check that needs scrypt reserves a failure first (synchronously, so a thousand concurrent
// requests cannot all slip past the count) and gets it back when the key proves valid. A key that
// verifies in microseconds (its fast check, or the verified cache) is never held back by these
// counts, so failures slow the failing client, not the account.

interface Window {
  count: number;
  resetAt: number;
}

const MAX_TRACKED = 10_000;

class Counter {
  private readonly seen = new Map<string, Window>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until `key` may try again, or undefined when it may now. */
  blocked(key: string, now = Date.now()): number | undefined {
    const e = this.seen.get(key);
    if (!e || e.resetAt <= now || e.count < this.limit) return undefined;
    return Math.max(1, Math.ceil((e.resetAt - now) / 1000));
  }

  add(key: string, n: number, now = Date.now()): void {
    let e = this.seen.get(key);
    if (!e || e.resetAt <= now) {
      if (n < 0) return; // a refund for a window that has ended
      if (this.seen.size >= MAX_TRACKED) for (const [k, v] of this.seen) if (v.resetAt <= now) this.seen.delete(k);
      e = { count: 0, resetAt: now + this.windowMs };
      this.seen.set(key, e);
    }
    e.count = Math.max(0, e.count + n);
  }
}

export interface AuthLimitOptions {
  /** Failures per client address per window before 429 (default 30). */
  perAddress?: number;
  /** Failures per key id per window before that id's slow checks get 429 (default 30). */
  perKeyId?: number;
  windowMs?: number;
}

export class AuthLimits {
  private readonly byAddress: Counter;
  private readonly byKey: Counter;

  constructor(o: AuthLimitOptions = {}) {
    const windowMs = o.windowMs ?? 60_000;
    this.byAddress = new Counter(o.perAddress ?? 30, windowMs);
    this.byKey = new Counter(o.perKeyId ?? 30, windowMs);
  }

  /** Seconds to wait before this address (and key id, when given) may try a key again. */
  blocked(address: string, keyId?: string): number | undefined {
    return this.byAddress.blocked(address) ?? (keyId === undefined ? undefined : this.byKey.blocked(keyId));
  }

  /** Counts a failure now; for a slow check, before it starts (refund it with `succeeded`). */
  fail(address: string, keyId?: string): void {
    this.byAddress.add(address, 1);
    if (keyId !== undefined) this.byKey.add(keyId, 1);
  }

  succeeded(address: string, keyId: string): void {
    this.byAddress.add(address, -1);
    this.byKey.add(keyId, -1);
  }
}
