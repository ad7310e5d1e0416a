// Byte-level BPE on tinyshakespeare (1.1 MB): training time to 1,024 and 4,096 tokens, and encode and
// decode throughput, beside llama.cpp's own tokenizer (C++, through node-llama-cpp, a dependency
// already) running the same exported vocabulary in the same process. llama.cpp cannot train, and no
// tokenizer trainer can be installed here without adding a package (PyPI is unreachable; npm's
// tiktoken / gpt-tokenizer only encode OpenAI's vocabularies), so training has no reference.
//
//   node --import tsx bench/tokenizer.ts [--repeats 3]
//   npm run build && node dist/bench/tokenizer.js
//
// Throughput counts UTF-8 bytes of input text per second. "cold" is the first encode of the whole
// text by a fresh tokenizer (piece cache empty, code not yet optimised); "warm" is the median of
// later runs. Training time is the median of --repeats runs, reading the file from disk each time.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ggufValue, writeGguf, type GgufValue } from "../src/formats/gguf/index.js";
import { sharedLlama } from "../src/model/providers/llamacpp/runtime.js";
import { GGUF_TOKENIZER_VALUE_TYPES, Tokenizer, trainTokenizer, type GgufTokenizerMetadata } from "../src/tokenizer/index.js";
import { commandLine, describeMachine, fmt, machineInfo, note, now, printTable, ratio, repoRoot, writeJson } from "./lib.js";

const { values } = parseArgs({ options: { repeats: { type: "string", default: "3" } } });
const repeats = Math.max(1, Number(values.repeats));
const file = join(repoRoot(), "..", "shared", "data", "tinyshakespeare", "input.txt");
let text: string;
try {
  text = readFileSync(file, "utf8");
} catch {
  process.stderr.write(`error: tinyshakespeare is not at ${file}\nhint: put input.txt of tinyshakespeare there\n`);
  process.exit(1);
}
const bytes = Buffer.byteLength(text);
const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function llamaCppVocab(tok: Tokenizer, dir: string) {
  const md = tok.toGgufTokenizerMetadata();
  const value = (k: keyof GgufTokenizerMetadata): GgufValue => {
    const v = md[k];
    switch (GGUF_TOKENIZER_VALUE_TYPES[k]) {
      case "string":
        return ggufValue.str(v as string);
      case "uint32":
        return ggufValue.u32(v as number);
      case "bool":
        return ggufValue.bool(v as boolean);
      case "array:string":
        return ggufValue.strings(v as string[]);
      case "array:int32":
        return ggufValue.numbers("int32", v as number[]);
    }
  };
  const path = join(dir, `vocab-${tok.vocabSize}.gguf`);
  const u32 = ggufValue.u32;
  await writeGguf(path, {
    metadata: [
      ["general.architecture", ggufValue.str("llama")],
      ["llama.context_length", u32(64)],
      ["llama.embedding_length", u32(16)],
      ["llama.block_count", u32(1)],
      ["llama.feed_forward_length", u32(32)],
      ["llama.attention.head_count", u32(2)],
      ["llama.attention.head_count_kv", u32(2)],
      ["llama.attention.layer_norm_rms_epsilon", ggufValue.f32(1e-5)],
      ["llama.rope.freq_base", ggufValue.f32(10000)],
      ["llama.rope.dimension_count", u32(8)],
      ...(Object.keys(GGUF_TOKENIZER_VALUE_TYPES) as (keyof GgufTokenizerMetadata)[]).map((k): [string, GgufValue] => [k, value(k)]),
    ],
    tensors: [],
  });
  return (await sharedLlama()).loadModel({ modelPath: path, vocabOnly: true });
}

const machine = machineInfo();
note(`tokenizer benchmark on ${describeMachine(machine)}`);
const dir = mkdtempSync(join(tmpdir(), "strata-bench-tok-"));
const results = [];
for (const vocabSize of [1024, 4096]) {
  const trainMs: number[] = [];
  let tok: Tokenizer | undefined;
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    tok = (await trainTokenizer([file], { vocabSize })).tokenizer;
    trainMs.push(now() - t0);
  }
  tok = tok!;
  // Cold: a fresh tokenizer (the same merges), its first encode.
  const fresh = new Tokenizer(tok.spec);
  let t0 = now();
  const ids = fresh.encode(text);
  const coldMs = now() - t0;
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = now();
    fresh.encode(text);
    warm.push(now() - t0);
  }
  const dec: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = now();
    fresh.decode(ids);
    dec.push(now() - t0);
  }
  note(`vocab ${vocabSize}: trained in ${fmt(median(trainMs))} ms; llama.cpp next`);
  const model = await llamaCppVocab(tok, dir);
  const ref: number[] = [];
  let refIds: number[] = [];
  for (let i = 0; i < 3; i++) {
    t0 = now();
    refIds = Array.from(model.tokenize(text, false), Number);
    ref.push(now() - t0);
  }
  const refDec: number[] = [];
  for (let i = 0; i < 3; i++) {
    t0 = now();
    model.detokenize(refIds as never[], false);
    refDec.push(now() - t0);
  }
  const same = refIds.length === ids.length && refIds.every((x, i) => x === ids[i]);
  await model.dispose();
  results.push({
    vocabSize,
    train_s: median(trainMs) / 1000,
    train_runs_ms: trainMs.map((x) => Math.round(x)),
    tokens: ids.length,
    bytes_per_token: bytes / ids.length,
    encode_cold_MBps: mbps(coldMs),
    encode_warm_MBps: mbps(median(warm)),
    decode_MBps: mbps(median(dec)),
    llamacpp_encode_MBps: mbps(median(ref)),
    llamacpp_decode_MBps: mbps(median(refDec)),
    llamacpp_same_ids: same,
  });
}

const rows = results.map((r) => [
  String(r.vocabSize),
  fmt(r.train_s, 2),
  fmt(r.tokens),
  fmt(r.bytes_per_token, 2),
  fmt(r.encode_cold_MBps, 1),
  fmt(r.encode_warm_MBps, 1),
  fmt(r.llamacpp_encode_MBps, 1),
  ratio(r.encode_warm_MBps, r.llamacpp_encode_MBps, 1),
  fmt(r.decode_MBps, 0),
  fmt(r.llamacpp_decode_MBps, 0),
  r.llamacpp_same_ids ? "yes" : "NO",
]);
const md = printTable(
  ["vocab", "train s", "tokens", "bytes/token", "encode cold MB/s", "encode warm MB/s", "llama.cpp encode MB/s", "ours/llama.cpp", "decode MB/s", "llama.cpp decode MB/s", "same ids"],
  rows,
);
const out = writeJson("tokenizer", { command: commandLine(), machine, file, bytes, repeats, results });
process.stdout.write(`\n${md}\n\ncommand: ${commandLine()}\nmachine: ${describeMachine(machine)}\nwrote ${out}\n`);
