// Usage per API key: requests, model tokens in and out, and cost where the model has a price.
// Each finished request adds to its key's row (one upsert); handlers add the tokens they spent.
// Work that outlives its request (agent runs) adds tokens alone, so `requests` counts HTTP requests.
import type Database from "better-sqlite3";

export interface RequestUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface KeyUsage {
  keyId: string;
  user: string;
  name: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  lastUsedAt: string | null;
}

export class UsageLedger {
  private readonly add: Database.Statement;
  private readonly addTokensOnly: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.add = db.prepare(
      `INSERT INTO usage (key_id, requests, input_tokens, output_tokens, cost_usd, last_used_at) VALUES (@key, 1, @in, @out, @cost, @now)
       ON CONFLICT (key_id) DO UPDATE SET requests = requests + 1, input_tokens = input_tokens + @in,
         output_tokens = output_tokens + @out, cost_usd = cost_usd + @cost, last_used_at = @now`,
    );
    // No request, so neither `requests` nor `last_used_at` (the key's last request) moves.
    this.addTokensOnly = db.prepare(
      `INSERT INTO usage (key_id, requests, input_tokens, output_tokens, cost_usd) VALUES (@key, 0, @in, @out, @cost)
       ON CONFLICT (key_id) DO UPDATE SET input_tokens = input_tokens + @in, output_tokens = output_tokens + @out, cost_usd = cost_usd + @cost`,
    );
  }

  /** One finished HTTP request and the model usage it spent. */
  record(keyId: string, u: RequestUsage): void {
    this.add.run({ key: keyId, in: u.inputTokens, out: u.outputTokens, cost: u.costUsd, now: new Date().toISOString() });
  }

  /** Model usage spent outside a request (e.g. an agent run working after its start answered). */
  addTokens(keyId: string, u: RequestUsage): void {
    this.addTokensOnly.run({ key: keyId, in: u.inputTokens, out: u.outputTokens, cost: u.costUsd });
  }

  /** Every key's usage (admins), or the keys of one user. */
  list(user?: string): KeyUsage[] {
    const sql = `SELECT k.id AS key_id, k.user, k.name, coalesce(u.requests, 0) AS requests, coalesce(u.input_tokens, 0) AS input_tokens,
                        coalesce(u.output_tokens, 0) AS output_tokens, coalesce(u.cost_usd, 0) AS cost_usd, u.last_used_at
                   FROM api_keys k LEFT JOIN usage u ON u.key_id = k.id ${user === undefined ? "" : "WHERE k.user = @user"} ORDER BY k.user, k.created_at, k.id`;
    const rows = this.db.prepare(sql).all(user === undefined ? {} : { user }) as {
      key_id: string;
      user: string;
      name: string | null;
      requests: number;
      input_tokens: number;
      output_tokens: number;
      cost_usd: number;
      last_used_at: string | null;
    }[];
    return rows.map((r) => ({
      keyId: r.key_id,
      user: r.user,
      name: r.name,
      requests: r.requests,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      costUsd: Number(r.cost_usd.toFixed(9)),
      lastUsedAt: r.last_used_at,
    }));
  }
}
