// http_get: GET requests to an allow-list of hosts, off unless hosts are given. Redirects are
// followed by hand so each hop is checked against the list; only http(s); the body is cut at a byte
// limit. Entries are "host", "host:port" or "*.domain" (subdomains of domain).
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { defineTool, type Tool } from "./tool.js";

export interface HttpGetOptions {
  /** Hosts the tool may reach; required and non-empty. */
  allowHosts: readonly string[];
  /** Most bytes of a body returned (default 100 KB). */
  maxBytes?: number;
  timeoutMs?: number;
  maxRedirects?: number;
  fetch?: typeof fetch;
}

export function hostAllowed(url: URL, allow: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const hostPort = url.port ? `${host}:${url.port}` : host;
  return allow.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry.startsWith("*.")) {
      const domain = entry.slice(2);
      return host.endsWith(`.${domain}`);
    }
    return entry.includes(":") ? entry === hostPort : entry === host && (url.port === "" || url.port === "80" || url.port === "443");
  });
}

function checkUrl(raw: string, allow: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StrataError("TOOL_ARGS_INVALID", `"${raw}" is not a URL`, "give an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new StrataError("FORBIDDEN", `${url.protocol} URLs are not allowed`, "use http or https");
  if (url.username || url.password) throw new StrataError("FORBIDDEN", "URLs with credentials are not allowed", "leave user:password@ out");
  if (!hostAllowed(url, allow)) throw new StrataError("FORBIDDEN", `${url.host} is not on the allow-list`, `allowed hosts: ${allow.join(", ")}`);
  return url;
}

export function httpGetTool(o: HttpGetOptions): Tool {
  if (o.allowHosts.length === 0) throw new StrataError("USAGE", "http_get needs at least one allowed host", "pass allowHosts (the CLI's --allow-hosts example.com,api.example.com)");
  const maxBytes = o.maxBytes ?? 100_000;
  const doFetch = o.fetch ?? fetch;
  return defineTool({
    name: "http_get",
    description: `Fetches a web page or API response with GET. Only these hosts are allowed: ${o.allowHosts.join(", ")}.`,
    input: z.object({ url: z.string().min(1).max(4096).describe("absolute http(s) URL on an allowed host") }),
    risk: "external",
    // Reading is harmless to repeat; it still reaches outside, so approval stays on by default.
    idempotent: true,
    timeoutMs: o.timeoutMs ?? 15_000,
    maxResultChars: maxBytes + 500,
    run: async ({ url }, ctx) => {
      let current = checkUrl(url, o.allowHosts);
      for (let hop = 0; ; hop++) {
        const res = await doFetch(current, { method: "GET", redirect: "manual", signal: ctx.signal, headers: { accept: "text/*, application/json;q=0.9, */*;q=0.5" } });
        if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
          await res.body?.cancel();
          if (hop >= (o.maxRedirects ?? 3)) throw new StrataError("TOOL_FAILED", "too many redirects", "fetch the final URL directly");
          current = checkUrl(new URL(res.headers.get("location")!, current).toString(), o.allowHosts);
          continue;
        }
        const reader = res.body?.getReader();
        const chunks: Uint8Array[] = [];
        let size = 0;
        let truncated = false;
        while (reader) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          size += value.length;
          if (size > maxBytes) {
            truncated = true;
            await reader.cancel();
            break;
          }
        }
        const body = Buffer.concat(chunks).subarray(0, maxBytes).toString("utf8");
        return { url: current.toString(), status: res.status, contentType: res.headers.get("content-type"), truncated, body };
      }
    },
  });
}
