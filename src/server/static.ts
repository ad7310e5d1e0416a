// The web UI: files of web/dist (built by the UI's own build) served at /, with index.html for any
// other page path so the UI's client-side routes work on reload. Paths are resolved inside the UI
// folder and anything that escapes it is refused. Without a build, a plain page says so.
import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";
import { UI_CSP } from "./headers.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/** <package root>/web/dist, found from this file in src/ or dist/src/. */
export function defaultWebRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "web", "dist");
    const up = dirname(dir);
    if (up === dir) return resolve("web", "dist");
    dir = up;
  }
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strata</title></head>
<body><main>
<h1>Strata is running</h1>
<p>The web UI is not built. Build it with <code>npm run build:web</code> so that <code>web/dist/index.html</code> exists, then reload this page.</p>
<p>The API works without it: see <a href="/openapi.json">/openapi.json</a> and <code>docs/api.md</code>.</p>
</main></body></html>
`;

export class StaticUi {
  private readonly root: string | undefined;

  constructor(webRoot: string) {
    const index = join(webRoot, "index.html");
    this.root = existsSync(index) ? realpathSync(webRoot) : undefined;
  }

  get built(): boolean {
    return this.root !== undefined;
  }

  private file(urlPath: string): string | undefined {
    if (!this.root) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath.split("?")[0] ?? "/");
    } catch {
      return undefined;
    }
    if (decoded.includes("\0")) return undefined;
    const candidate = resolve(this.root, "." + (decoded.startsWith("/") ? decoded : "/" + decoded));
    if (candidate !== this.root && !candidate.startsWith(this.root + sep)) return undefined;
    if (!existsSync(candidate)) return undefined;
    const real = realpathSync(candidate);
    if (real !== this.root && !real.startsWith(this.root + sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  }

  /** Answers a GET outside /api and /v1. */
  serve(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (!this.root) return reply.code(200).header("content-type", "text/html; charset=utf-8").header("content-security-policy", UI_CSP).send(NOT_BUILT);
    const path = request.url.split("?")[0] ?? "/";
    const hit = path === "/" ? undefined : this.file(path);
    // A path that looks like a file (has an extension) and is missing is a 404; others are UI routes.
    if (!hit && extname(path) !== "") return reply.code(404).header("content-type", "text/plain; charset=utf-8").send("not found\n");
    const file = hit ?? join(this.root, "index.html");
    const type = TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
    const immutable = file.includes(`${sep}assets${sep}`);
    return reply
      .code(200)
      .header("content-type", type)
      .header("content-security-policy", UI_CSP)
      .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache")
      .send(createReadStream(file));
  }
}
