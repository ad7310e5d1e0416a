// The folder walk: which files are collected, which are skipped silently, and which paths become
// problems (missing, looping links, broken links, unreadable folders) while the walk goes on.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isStrataError } from "../../../src/core/errors.js";
import { collectSources } from "../../../src/knowledge/loaders/walk.js";
import { tempDir } from "./fixtures.js";

const tmp = tempDir();
after(tmp.cleanup);

/** Creates files (content = their name) under a new folder; returns its path. */
function tree(name: string, files: string[]): string {
  const root = path.join(tmp.dir, name);
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), f);
  }
  return root;
}
const rel = (root: string, files: string[]): string[] => files.map((f) => path.relative(root, f));
const limit = { timeout: 10_000 };

test("a folder expands to its supported files, recursively, sorted and absolute; others skipped silently", limit, async () => {
  const root = tree("basic", [
    "b.txt", "a.md", "sub/c.html", "sub/deep/d.PDF", "sub/e.png", "Makefile", "data.jsonl",
    ".hidden/x.md", ".secret.md", "node_modules/pkg/readme.md", "sub/.git/config.json",
  ]);
  const { files, problems } = await collectSources([root]);
  assert.deepEqual(problems, []);
  assert.ok(files.every((f) => path.isAbsolute(f)));
  assert.deepEqual(rel(root, files), ["a.md", "b.txt", "data.jsonl", "sub/c.html", "sub/deep/d.PDF"]);
});

test("duplicates collapse: a folder plus a file in it, relative and absolute paths, a link to a file", limit, async () => {
  const root = tree("dups", ["a.md", "b.md"]);
  symlinkSync(path.join(root, "a.md"), path.join(root, "z-link.md"));
  const relRoot = path.relative(process.cwd(), root);
  const { files, problems } = await collectSources([root, path.join(root, "a.md"), relRoot, path.join(relRoot, "b.md")]);
  assert.deepEqual(problems, []);
  assert.deepEqual(rel(root, files), ["a.md", "b.md"]);
});

test("missing paths and explicit unsupported files are problems; the other sources still count", limit, async () => {
  const root = tree("mixed", ["ok.md", "pic.png"]);
  const missing = path.join(root, "nope");
  const { files, problems } = await collectSources([missing, path.join(root, "pic.png"), root]);
  assert.deepEqual(rel(root, files), ["ok.md"]);
  assert.deepEqual(problems.map((p) => [path.relative(root, p.source), p.error.code]), [["nope", "NOT_FOUND"], ["pic.png", "UNSUPPORTED_TYPE"]]);
  for (const p of problems) assert.ok(isStrataError(p.error) && p.error.hint.length > 0);
});

test("a symlink loop (dir/loop/again → dir/loop) is one SYMLINK_LOOP problem; the rest is walked", limit, async () => {
  const root = tree("looped", ["top.md", "loop/inner.md", "other/x.txt"]);
  symlinkSync(path.join(root, "loop"), path.join(root, "loop/again"));
  const { files, problems } = await collectSources([root]);
  assert.deepEqual(rel(root, files), ["loop/inner.md", "other/x.txt", "top.md"]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.source, path.join(root, "loop/again"));
  assert.equal(problems[0]?.error.code, "SYMLINK_LOOP");
});

test("links: to the walked root is a loop, to a folder outside is followed, to a sibling is not walked twice", limit, async () => {
  const outside = tree("outside", ["far.md"]);
  const root = tree("linked", ["real/one.md"]);
  symlinkSync(root, path.join(root, "up"));
  symlinkSync(outside, path.join(root, "ext"));
  symlinkSync(path.join(root, "real"), path.join(root, "sibling"));
  const { files, problems } = await collectSources([root]);
  assert.deepEqual(rel(root, files), ["ext/far.md", "real/one.md"]);
  assert.deepEqual(problems.map((p) => [path.relative(root, p.source), p.error.code]), [["up", "SYMLINK_LOOP"]]);
});

test("a broken link to a supported file is a NOT_FOUND problem; to an unsupported one it is ignored", limit, async () => {
  const root = tree("broken", ["fine.md"]);
  symlinkSync(path.join(root, "gone.md"), path.join(root, "dangling.md"));
  symlinkSync(path.join(root, "gone.png"), path.join(root, "dangling.png"));
  const { files, problems } = await collectSources([root]);
  assert.deepEqual(rel(root, files), ["fine.md"]);
  assert.deepEqual(problems.map((p) => [path.basename(p.source), p.error.code]), [["dangling.md", "NOT_FOUND"]]);
  assert.match(problems[0]?.error.message ?? "", /broken symbolic link/);
});

test("include and exclude globs match the path relative to the folder, or the basename", limit, async () => {
  const root = tree("globs", ["a.md", "notes.txt", "drafts/wip.md", "docs/guide.md", "docs/deep/ref.txt"]);
  const md = await collectSources([root], { include: ["**/*.md"] });
  assert.deepEqual(rel(root, md.files), ["a.md", "docs/guide.md", "drafts/wip.md"]);
  const noDrafts = await collectSources([root], { exclude: ["drafts/**"] });
  assert.deepEqual(rel(root, noDrafts.files), ["a.md", "docs/deep/ref.txt", "docs/guide.md", "notes.txt"]);
  const noTxt = await collectSources([root], { exclude: ["*.txt"] });
  assert.deepEqual(rel(root, noTxt.files), ["a.md", "docs/guide.md", "drafts/wip.md"]);
  const both = await collectSources([root], { include: ["docs/**"], exclude: ["ref.txt"] });
  assert.deepEqual(rel(root, both.files), ["docs/guide.md"]);
});

test("an unreadable folder is an UNREADABLE problem", limit, async (t) => {
  if (process.getuid?.() === 0) {
    t.skip("running as root: permissions do not apply");
    return;
  }
  const root = tree("locked", ["ok.md", "closed/secret.md"]);
  chmodSync(path.join(root, "closed"), 0o000);
  try {
    const { files, problems } = await collectSources([root]);
    assert.deepEqual(rel(root, files), ["ok.md"]);
    assert.deepEqual(problems.map((p) => [path.basename(p.source), p.error.code]), [["closed", "UNREADABLE"]]);
  } finally {
    chmodSync(path.join(root, "closed"), 0o755);
  }
});

test("an aborted signal stops the walk with ABORTED", limit, async () => {
  const root = tree("abort", ["a.md"]);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(collectSources([root], { signal: ac.signal }), (e: unknown) => isStrataError(e) && e.code === "ABORTED");
});
