// Browser tests' helpers: the real `strata serve` in a child process on a free port with a fresh
// data folder and a known admin key, a small admin client for setting up users, keys and knowledge
// bases, Debian's Chromium through playwright-core, and a folder for screenshots.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { cliPath, repoRoot, tempDir } from "./paths.js";

/** Debian's Chromium (installed by .ci/run); STRATA_CHROMIUM points elsewhere if needed. */
export const CHROMIUM = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, as .ci/run does); browser tests skipped`;
  return undefined;
}

/** Where the built web UI must be for the server to serve it. */
export function webDist(): string {
  return join(repoRoot(), "web", "dist");
}

export function assertWebBuilt(): void {
  if (!existsSync(join(webDist(), "index.html"))) {
    throw new Error(`the web UI is not built (${join(webDist(), "index.html")} is missing): run \`npm run build:web\` (part of \`npm run build\`)`);
  }
}

/** The flags node.md names for Chromium on these machines: no GPU, no sandbox (root), no background traffic. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

/** Chromium, headless; playwright gives every launch a fresh, empty --user-data-dir. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface Server {
  url: string;
  adminKey: string;
  data: string;
  /** Everything the server wrote, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `strata serve --port 0 --data <tmp>` with STRATA_ADMIN_KEY set, and resolves once it has
 * said where it listens (the first http://host:port it prints) and answers /api/me.
 */
export async function startServer(opts: { data?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Server> {
  const data = opts.data ?? tempDir("strata-browser-data-");
  const adminKey = `test-admin-${randomBytes(24).toString("base64url")}`;
  const child: ChildProcess = spawn(process.execPath, [cliPath(), "serve", "--port", "0", "--host", "127.0.0.1", "--data", data, ...(opts.args ?? [])], {
    env: { ...process.env, CI: "true", STRATA_ADMIN_KEY: adminKey, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const log = (): string => out.slice(-8000);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strata serve did not print its address within 60 s:\n${log()}`)), 60_000);
    const onData = (b: Buffer): void => {
      out += b.toString("utf8");
      const m = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`strata serve exited (${code}) before listening:\n${log()}`));
    });
  });
  const server: Server = {
    url,
    adminKey,
    data,
    log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  // Listening is not yet serving: wait for an authenticated answer.
  const api = new ApiClient(url, adminKey);
  for (let i = 0; ; i++) {
    try {
      await api.get("/api/me");
      break;
    } catch (e) {
      if (i >= 50) {
        await server.stop();
        throw new Error(`strata serve does not answer /api/me: ${String(e)}\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return server;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

/** The Strata API from Node, as a client with one key. */
export class ApiClient {
  constructor(
    readonly base: string,
    readonly key: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${this.key}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new HttpError(res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** A user with groups and a key with scopes; returns that user's client. */
  async user(name: string, groups: string[], scopes: string[] = ["read", "ingest"]): Promise<ApiClient> {
    await this.post("/api/users", { name, groups });
    const k = await this.post<{ key: string }>("/api/keys", { user: name, scopes });
    return new ApiClient(this.base, k.key);
  }
}

/** A fresh folder for this run's screenshots: STRATA_ARTIFACTS, else test-artifacts/<name>-<time>/. */
export function artifactsDir(name: string): string {
  const root = process.env.STRATA_ARTIFACTS ?? join(repoRoot(), "test-artifacts");
  const dir = join(root, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface Viewport {
  name: string;
  width: number;
  height: number;
}

export const DESKTOP: Viewport = { name: "1280", width: 1280, height: 860 };
export const PHONE: Viewport = { name: "390", width: 390, height: 844 };

/** A browser context at a viewport and colour scheme that records every request it makes. */
export async function newContext(browser: Browser, v: Viewport, colorScheme: "light" | "dark" = "light"): Promise<{ context: BrowserContext; page: Page; requests: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: v.width, height: v.height }, colorScheme, deviceScaleFactor: 1, ...(v.width < 600 ? { isMobile: true, hasTouch: true } : {}) });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(20_000);
  return { context, page, requests, errors };
}

/** Signs in through the form with a key, and waits for the signed-in shell. */
export async function signIn(page: Page, base: string, key: string, user: string): Promise<void> {
  await page.goto(base + "/");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-user").filter({ hasText: user }).waitFor();
}

/** Drops files onto an element the way a person dragging them from the desktop does (a DataTransfer with Files). */
export async function dropFiles(page: Page, selector: string, files: { name: string; mimeType: string; text: string }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    `(() => { const dt = new DataTransfer(); for (const f of ${JSON.stringify(files)}) dt.items.add(new File([f.text], f.name, { type: f.mimeType })); return dt; })()`,
  );
  await page.dispatchEvent(selector, "dragenter", { dataTransfer });
  await page.dispatchEvent(selector, "dragover", { dataTransfer });
  await page.dispatchEvent(selector, "drop", { dataTransfer });
  await dataTransfer.dispose();
}

/** A PNG of the page (whole page) in the artifacts folder. */
export async function shot(page: Page, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled", caret: "hide" });
  return path;
}
