// The gguf: speed trap: the CLI used to hand every provider threads = 2, which on a 2-core machine
// made llama.cpp's spinning workers crawl (1.9 tokens/s where one thread gave hundreds). Without
// STRATA_THREADS or a config value, the llama.cpp provider now picks its own default; f32 files
// get an f32 KV cache so their greedy text matches Strata's engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { providerOptions } from "../../../src/cli/model-options.js";
import { openGguf } from "../../../src/formats/gguf/index.js";
import { contextOptions, defaultThreads, kvCacheTypeFor, resolveSettings } from "../../../src/model/providers/llamacpp/options.js";
import { tempDir } from "../../helpers/paths.js";
import { writeTinyLlamaGguf } from "../../helpers/tiny-llama.js";

const noConfig = { STRATA_CONFIG: undefined } as NodeJS.ProcessEnv;

test("the CLI sets no thread count unless told; llama.cpp then uses cores − 1 (at most 4)", () => {
  const opts = providerOptions(noConfig);
  assert.equal(opts.threads, undefined);
  assert.equal(resolveSettings("gguf:./m.gguf", opts).threads, defaultThreads());
  assert.ok(defaultThreads() >= 1 && defaultThreads() <= 4);
  // asked for, it is honoured
  assert.equal(providerOptions({ STRATA_THREADS: "3" }).threads, 3);
  assert.equal(resolveSettings("gguf:./m.gguf", providerOptions({ STRATA_THREADS: "3" })).threads, 3);
  assert.equal(resolveSettings("gguf:./m.gguf#threads=2", providerOptions(noConfig)).threads, 2);
});

test("f32 files get an f32 KV cache, quantized ones keep llama.cpp's default", async () => {
  const dir = tempDir();
  const header = async (weightType: "F32" | "Q8_0") => {
    const path = join(dir, `${weightType}.gguf`);
    await writeTinyLlamaGguf(path, { weightType, width: 64, ffn: 128 });
    const r = await openGguf(path);
    await r.close();
    return r;
  };
  const f32 = await header("F32");
  const q8 = await header("Q8_0");
  assert.equal(kvCacheTypeFor(f32), "F32");
  assert.equal(kvCacheTypeFor(q8), undefined);
  const settings = resolveSettings("gguf:./m.gguf#threads=1", {});
  assert.deepEqual(contextOptions(settings, f32), { threads: 1, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
  assert.deepEqual(contextOptions(settings, q8), { threads: 1 });
});
