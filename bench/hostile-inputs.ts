// Hostile inputs through `strata ingest` at the default limits, one file per run: time to refuse and
// peak RSS (GNU time), beside a good file of the same run. Writes bench/out/hostile-inputs.json.
//   node dist/bench/hostile-inputs.js [--dist <other dist/ to compare, e.g. a base build>]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostile } from "../test/helpers/hostile-files.js";
import { makePdf, textLines } from "../test/knowledge/loaders/fixtures.js";

const INPUTS: [string, () => Buffer | string][] = [
  ["bomb-200MiB.docx", () => hostile.docxBomb(200)],
  ["lying-bomb-200MiB.docx", () => hostile.docxLyingBomb(200)],
  ["deep-100k.docx", hostile.docxDeep],
  ["bomb-200MiB.md.gz", () => hostile.gzipBomb(200)],
  ["deep-100k.html", () => hostile.deepHtml()],
  ["deep-100k.json", () => hostile.deepJson()],
  ["one-line-50MB.txt", () => hostile.longLine(50 * 1024 * 1024 - 1024)],
  ["latin1.md", hostile.invalidUtf8],
  ["truncated.docx", hostile.truncatedDocx],
  ["truncated.pdf", () => makePdf([textLines(["Cut in the middle."])]).subarray(0, 200)],
  ["png-named.md", hostile.binaryAsMarkdown],
];

const argDist = process.argv.indexOf("--dist");
const cli = join(argDist > 0 ? process.argv[argDist + 1]! : "dist", "src/cli/main.js");
const root = mkdtempSync(join(tmpdir(), "strata-hostile-bench-"));
const rows: { input: string; seconds: number; peakMb: number; outcome: string }[] = [];
for (const [name, make] of INPUTS) {
  const dir = join(root, name.replace(/\W/g, "_"));
  mkdirSync(dir);
  writeFileSync(join(dir, name), make());
  writeFileSync(join(dir, "good.md"), "# Travel\n\nTrips are booked 14 days ahead.\n");
  const t0 = Date.now();
  const r = spawnSync("/usr/bin/time", ["-f", "MAXRSS %M", process.execPath, cli, "ingest", dir, "--kb", join(dir, "kb"), "--json"], { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 });
  const seconds = (Date.now() - t0) / 1000;
  const peakMb = Number(/MAXRSS (\d+)/.exec(r.stderr ?? "")?.[1] ?? 0) / 1024;
  let outcome = `exit ${r.status ?? "killed"}`;
  try {
    const rep = JSON.parse(r.stdout) as { added: number; failed: { code: string }[] };
    outcome = rep.failed.length ? `${rep.failed[0]!.code}, good file ${rep.added ? "added" : "NOT added"}` : `accepted (${rep.added} added)`;
  } catch {
    // no JSON: crashed or timed out
  }
  rows.push({ input: name, seconds, peakMb, outcome });
  console.log(`${name.padEnd(24)} ${seconds.toFixed(1).padStart(6)} s  ${peakMb.toFixed(0).padStart(5)} MB  ${outcome}`);
}
mkdirSync("bench/out", { recursive: true });
writeFileSync("bench/out/hostile-inputs.json", JSON.stringify({ cli, rows }, null, 2));
