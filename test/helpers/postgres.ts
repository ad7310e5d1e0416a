// A throw-away PostgreSQL cluster for tests: initdb + pg_ctl into a fresh temporary folder, listening
// on a free loopback port only, stopped and removed at the end. Run as the `postgres` user when the
// tests run as root (initdb refuses root). Where no PostgreSQL is installed, `pgUnavailable()` says
// why and the tests skip with that message. Each test takes its own database (`newDatabase`), so
// tests never see each other's rows and one cluster serves a whole test file.
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { tempDir } from "./paths.js";

const PG_ROOT = "/usr/lib/postgresql";

/** The bin folder of the newest installed PostgreSQL, or undefined. */
export function pgBinDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(PG_ROOT, versions[0], "bin") : undefined;
}

function runningAsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function hasPostgresUser(): boolean {
  return spawnSync("id", ["-u", "postgres"], { stdio: "ignore" }).status === 0;
}

/** Why no cluster can be started here (a skip message), or undefined when one can. */
export function pgUnavailable(): string | undefined {
  if (!pgBinDir()) return `PostgreSQL is not installed (no ${PG_ROOT}/*/bin/initdb): install Debian's postgresql package to run these tests`;
  if (runningAsRoot() && !hasPostgresUser()) return "running as root without a postgres user: initdb refuses root";
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** Connection URL of the cluster's `postgres` database (superuser `strata`, trust auth on loopback). */
  url: string;
  port: number;
  /** The cluster's folder (data, socket, log), removed by stop(). */
  dir: string;
  /** URL of a new, empty database. */
  newDatabase(prefix?: string): Promise<string>;
  /** Stops the server abruptly and starts it again on the same port (fault tests). */
  restart(): void;
  stop(): void;
}

/** Starts a cluster; throws when PostgreSQL is missing (check `pgUnavailable()` first). */
export async function startPostgres(): Promise<PgCluster> {
  const why = pgUnavailable();
  if (why) throw new Error(why);
  const bin = pgBinDir()!;
  const dir = tempDir("strata-pg-");
  const asRoot = runningAsRoot();
  if (asRoot) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), Number(execFileSync("id", ["-g", "postgres"]).toString().trim()));
  const run = (tool: string, args: string[]): void => {
    const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]] : [join(bin, tool), args];
    const r = spawnSync(cmd, argv, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr || r.stdout}`);
  };
  const data = join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "strata", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  const port = await freePort();
  // Loopback only, the socket in our own folder, durability off (tests, not data).
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = (): void => run("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  const stopNow = (): void => run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  try {
    start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      stopNow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.once("exit", () => {
    if (!stopped) {
      try {
        stop();
      } catch {
        // best effort at exit
      }
    }
  });
  const url = `postgres://strata@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    port,
    dir,
    async newDatabase(prefix = "kb") {
      const name = `${prefix}_${process.pid}_${++n}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://strata@127.0.0.1:${port}/${name}`;
    },
    restart() {
      stopNow();
      start();
    },
    stop,
  };
}
