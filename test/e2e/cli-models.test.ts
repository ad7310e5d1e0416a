// Downloaded-model files through the built CLI: `strata models inspect` describes a family's GGUF
// and says whether the engine runs it; `strata generate --model builtin:<file>` gives llama.cpp's
// greedy text (gguf:<file>) for a SentencePiece and a BPE family, raw and as a chat.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ggufValue, writeGguf } from "../../src/formats/gguf/index.js";
import { writeFamilyGguf } from "../helpers/gguf-families.js";
import { jsonOf, strata } from "../helpers/cli.js";
import { tempDir } from "../helpers/paths.js";

const root = tempDir();
const env = { STRATA_THREADS: "1" };
const files: Record<string, string> = {};

before(async () => {
  for (const f of ["qwen2.5", "llama2", "llama3.2"] as const) files[f] = (await writeFamilyGguf(join(root, `${f}.gguf`), f, { type: "Q8_0" })).path;
});

interface Inspection {
  architecture: string;
  parameters: number;
  contextLength: number;
  tensorTypes: Record<string, { tensors: number }>;
  tokenizer: { model: string; pre?: string; kind: string };
  chatTemplate?: string;
  run: { ok: boolean; reason: string };
  fineTune: { ok: boolean };
}

describe("strata models inspect", () => {
  test("a Qwen2.5 layout: architecture, tensor types, tokenizer, template, runnable", () => {
    const r = strata(["models", "inspect", files["qwen2.5"]!, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const i = jsonOf<Inspection>(r);
    assert.equal(i.architecture, "qwen2");
    assert.equal(i.contextLength, 256);
    assert.ok(i.tensorTypes.Q8_0 && i.tensorTypes.F32);
    assert.equal(i.tokenizer.pre, "qwen2");
    assert.match(i.tokenizer.kind, /byte-level BPE/);
    assert.match(i.chatTemplate ?? "", /im_start/);
    assert.ok(i.run.ok && i.fineTune.ok);
    const text = strata(["models", "inspect", files["qwen2.5"]!]);
    assert.match(text.stdout, /architecture\s+qwen2/);
    assert.match(text.stdout, /runs in Strata\s+yes/);
  });

  test("an unsupported architecture exits 1 naming why; a missing file is a clear error", async () => {
    const other = join(root, "phi.gguf");
    await writeGguf(other, { metadata: [["general.architecture", ggufValue.str("phi3")], ["phi3.context_length", ggufValue.u32(4096)]], tensors: [] });
    const r = strata(["models", "inspect", other]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /runs in Strata\s+no: .*"phi3" model.*"llama" and "qwen2"/);
    const missing = strata(["models", "inspect", join(root, "nope.gguf")]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /error: /);
  });
});

describe("strata generate --model builtin:<downloaded-layout file>", () => {
  const same = (family: string, extra: string[]): void => {
    const args = ["generate", "The capital of France is", "--max-tokens", "16", ...extra];
    const ours = strata([...args, "--model", `builtin:${files[family]}`], { env });
    const theirs = strata([...args, "--model", `gguf:${files[family]}`], { env });
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(ours.stdout, theirs.stdout, `${family} ${extra.join(" ")}`);
  };
  test("SentencePiece (Llama 2) and BPE (Qwen2.5): the same greedy text as llama.cpp", () => {
    same("llama2", []);
    same("qwen2.5", []);
  });
  // node-llama-cpp formats Llama 3 chats as the file's template does; for ChatML and Llama 2 its own
  // wrappers differ from the template (docs/decisions/0014), so the chat comparison uses Llama 3.2.
  test("a Llama 3.2 chat: the same greedy reply as llama.cpp", () => same("llama3.2", ["--chat"]));
});
