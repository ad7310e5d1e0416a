// `npx strata serve` runs the server under npm, which does not pass signals on: killing the npx
// process must not leave the server running. The server, started with npm's npm_command=exec,
// notices its parent is gone and shuts down.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cliPath, tempDir } from "../helpers/paths.js";

test("the server stops when the npx wrapper that started it is killed", async () => {
  const data = tempDir();
  // A stand-in for npm exec: starts the server as its child, reports the child's pid, then waits.
  const wrapperCode = `
    const { spawn } = require("node:child_process");
    const child = spawn(process.execPath, [${JSON.stringify(cliPath())}, "serve", "--port", "0", "--data", ${JSON.stringify(data)}, "--quiet"], { env: { ...process.env, npm_command: "exec" }, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (d) => { if (String(d).includes("listening on")) process.stdout.write(String(child.pid) + "\\n"); });
    setInterval(() => {}, 1000);`;
  const wrapper = spawn(process.execPath, ["-e", wrapperCode], { stdio: ["ignore", "pipe", "inherit"] });
  const serverPid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start")), 60_000);
    wrapper.stdout.on("data", (d: Buffer) => {
      clearTimeout(timer);
      resolve(Number(String(d).trim()));
    });
  });
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(alive(serverPid));
  wrapper.kill("SIGKILL");
  const deadline = Date.now() + 30_000;
  while (alive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const stillAlive = alive(serverPid);
  if (stillAlive) process.kill(serverPid, "SIGKILL");
  assert.equal(stillAlive, false, "the server kept running after its wrapper was killed");
});
