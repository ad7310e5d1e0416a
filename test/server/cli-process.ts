// The real CLI in a child process, awaited without blocking the event loop — the server under test
// runs in this process and must keep answering (and keep its keep-alive sockets) meanwhile.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliPath, repoRoot } from "../helpers/paths.js";

/** From source when the test runs from source (so it needs no build), else the built CLI. */
export function runStrata(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
  const argv = fromSource ? ["--import", "tsx", join(repoRoot(), "src", "cli", "main.ts"), ...args] : [cliPath(), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: repoRoot(), env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => (clearTimeout(timer), reject(e)));
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}
