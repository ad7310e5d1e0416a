// Every way to hand the llama.cpp provider something wrong — a missing or broken file, an architecture
// llama.cpp lacks, a header that would crash llama.cpp, bad reference options, a wrong LoRA adapter,
// a malformed request — gives a StrataError naming the problem, and the process survives.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { StrataError, type ErrorCode } from "../../../src/core/errors.js";
import { ggufValue, writeGguf } from "../../../src/formats/gguf/index.js";
import { toGrammarSchema } from "../../../src/model/providers/llamacpp/grammar-schema.js";
import { createLlamaCppEmbeddingModel, createLlamaCppLanguageModel } from "../../../src/model/providers/llamacpp/index.js";
import type { GenerateRequest, LanguageModel } from "../../../src/model/types.js";
import { tempDir } from "../../helpers/paths.js";
import { writeTinyLlamaGguf, writeTinyLoraGguf, type TinyLlama } from "../../helpers/tiny-llama.js";

const dir = tempDir();
let tiny: TinyLlama;
let lm: LanguageModel;

before(async () => {
  tiny = await writeTinyLlamaGguf(join(dir, "ok.gguf"), { context: 256 });
  lm = await createLlamaCppLanguageModel(`gguf:${tiny.path}`, { threads: 1 });
});
after(async () => {
  await lm.close();
  rmSync(dir, { recursive: true, force: true });
});

function isError(code: ErrorCode, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof StrataError, `not a StrataError: ${e instanceof Error ? e.stack : String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(e.hint.length > 0, "a hint names the fix");
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  };
}

const create = (ref: string): Promise<LanguageModel> => createLlamaCppLanguageModel(ref, { threads: 1 });

test("a missing model file: NOT_FOUND naming the path", async () => {
  const path = join(dir, "missing.gguf");
  await assert.rejects(create(`gguf:${path}`), isError("NOT_FOUND", new RegExp(`${path.replace(/[.]/g, "\\.")} does not exist`)));
  mkdirSync(join(dir, "a-folder.gguf"));
  await assert.rejects(create(`gguf:${join(dir, "a-folder.gguf")}`), isError("UNREADABLE", /not a file|folder/));
});

test("not a GGUF, or a truncated one: our reader says exactly what is wrong", async () => {
  const text = join(dir, "notes.gguf");
  writeFileSync(text, "just some text, not a model");
  await assert.rejects(create(`gguf:${text}`), isError("GGUF_INVALID", /not a GGUF file: it starts with "just"/));
  const cut = join(dir, "cut.gguf");
  copyFileSync(tiny.path, cut);
  truncateSync(cut, 150_000);
  await assert.rejects(create(`gguf:${cut}`), isError("GGUF_INVALID", /truncated: tensor "blk\.\d\.[a-z_]+\.weight" needs bytes/));
  truncateSync(cut, 5_000);
  await assert.rejects(create(`gguf:${cut}`), isError("GGUF_INVALID", /truncated/));
});

test("an architecture llama.cpp does not have", async () => {
  const m = await writeTinyLlamaGguf(join(dir, "arch.gguf"), { extraMetadata: [["general.architecture", ggufValue.str("strata-net")]] });
  await assert.rejects(create(`gguf:${m.path}`), isError("UNSUPPORTED_TYPE", /"strata-net" model, an architecture llama.cpp does not support/));
  const none = join(dir, "no-arch.gguf");
  await writeGguf(none, { metadata: [["general.name", ggufValue.str("x")]], tensors: [] });
  await assert.rejects(create(`gguf:${none}`), isError("GGUF_INVALID", /no general.architecture/));
});

test("headers that would abort llama.cpp (and the whole process) are caught first", async () => {
  const cases: Array<[string, Parameters<typeof writeTinyLlamaGguf>[1], RegExp]> = [
    ["zero-layers", { extraMetadata: [["llama.block_count", ggufValue.u32(0)]] }, /0 layers .* needs 1 to 512/],
    ["many-layers", { extraMetadata: [["llama.block_count", ggufValue.u32(100000)]] }, /100000 layers/],
    ["eos-outside-vocab", { extraMetadata: [["tokenizer.ggml.eos_token_id", ggufValue.u32(5000)]] }, /eos_token_id is 5000, outside the vocabulary of 286 tokens/],
    ["short-token-types", { extraMetadata: [["tokenizer.ggml.token_type", ggufValue.numbers("int32", [1, 1])]] }, /token_type has 2 entries for 286 tokens/],
    ["zero-heads", { extraMetadata: [["llama.attention.head_count", ggufValue.u32(0)]] }, /head_count is 0/],
    ["bad-gqa", { extraMetadata: [["llama.attention.head_count_kv", ggufValue.u32(3)]] }, /4 attention heads cannot be grouped over 3 KV heads/],
    ["missing-tensor", { omitTensors: ["blk.1.ffn_up.weight"] }, /missing tensor "blk\.1\.ffn_up\.weight"/],
    ["wrong-shape", { extraMetadata: [["llama.feed_forward_length", ggufValue.u32(96)]] }, /tensor "blk\.0\.ffn_gate\.weight" has shape \[64, 128\]; a llama model of this size needs \[64, 96\]/],
  ];
  for (const [name, opts, pattern] of cases) {
    const m = await writeTinyLlamaGguf(join(dir, `${name}.gguf`), opts);
    await assert.rejects(create(`gguf:${m.path}`), isError("GGUF_INVALID", pattern), name);
  }
});

test("what only llama.cpp can tell is surfaced from its log, not just 'Failed to load model'", async () => {
  // A gpt2 header over llama tensors passes every generic check; llama.cpp then misses gpt2's tensors.
  const m = await writeTinyLlamaGguf(join(dir, "gpt2.gguf"), {
    extraMetadata: [
      ["general.architecture", ggufValue.str("gpt2")],
      ["gpt2.block_count", ggufValue.u32(2)],
      ["gpt2.context_length", ggufValue.u32(256)],
      ["gpt2.embedding_length", ggufValue.u32(64)],
      ["gpt2.feed_forward_length", ggufValue.u32(128)],
      ["gpt2.attention.head_count", ggufValue.u32(4)],
      ["gpt2.attention.layer_norm_epsilon", ggufValue.f32(1e-5)],
    ],
  });
  const lines: string[] = [];
  const model = await createLlamaCppLanguageModel(`gguf:${m.path}`, { threads: 1, onLog: (l) => lines.push(l) });
  const request: GenerateRequest = { messages: [{ role: "user", content: "hi" }], maxTokens: 1 };
  await assert.rejects(model.generate(request), isError("MODEL_LOAD_FAILED", /could not load .*gpt2\.gguf: .*tensor 'position_embd\.weight'/));
  assert.ok(lines.some((l) => /position_embd/.test(l)), "onLog saw llama.cpp's own lines");
  // Loading is retried on the next call (the file may have been fixed), and fails the same way.
  await assert.rejects(model.countTokens("x"), isError("MODEL_LOAD_FAILED", /position_embd/));
  await model.close();
});

test("bad reference options", async () => {
  const base = `gguf:${tiny.path}`;
  await assert.rejects(create(`${base}#contextsize=4`), isError("USAGE", /unknown option "contextsize"/));
  await assert.rejects(create(`${base}#ctx=big`), isError("USAGE", /option "ctx" .* must be a whole number/));
  await assert.rejects(create(`${base}#ctx=0`), isError("USAGE", /"ctx" .* between 1 and/));
  await assert.rejects(create(`${base}#threads=-2`), isError("USAGE", /"threads"/));
  await assert.rejects(create(`${base}#loraScale=0.5`), isError("USAGE", /loraScale without lora/));
  await assert.rejects(create(`${base}#lora=x.gguf&loraScale=lots`), isError("USAGE", /"loraScale" .* must be a number/));
  await assert.rejects(create("openai:http://127.0.0.1:1/v1#m"), isError("USAGE", /not a gguf: reference/));
  await assert.rejects(createLlamaCppLanguageModel(`gguf:${tiny.path}`, { threads: 0 }), isError("USAGE", /threads must be a positive whole number/));
});

test("LoRA adapters that do not fit", async () => {
  const base = `gguf:${tiny.path}`;
  await assert.rejects(create(`${base}#lora=${join(dir, "none.gguf")}`), isError("NOT_FOUND", /LoRA adapter .*none\.gguf does not exist/));
  await assert.rejects(create(`${base}#lora=${tiny.path}`), isError("USAGE", /is not a LoRA adapter \(general\.type is missing/));
  const qwen = await writeTinyLoraGguf(join(dir, "qwen-lora.gguf"), tiny, { architecture: "qwen2" });
  await assert.rejects(create(`${base}#lora=${qwen.path}`), isError("USAGE", /adapts a "qwen2" model but the base model is "llama"/));
  const wide = await writeTinyLlamaGguf(join(dir, "wide.gguf"), { width: 128 });
  const wideLora = await writeTinyLoraGguf(join(dir, "wide-lora.gguf"), wide, {});
  await assert.rejects(create(`${base}#lora=${wideLora.path}`), isError("USAGE", /lora_a \[128, 4\] .* do not fit the base weight \[64, 64\]/));
  const adapter = await writeTinyLoraGguf(join(dir, "adapter.gguf"), tiny, {});
  await assert.rejects(create(`gguf:${adapter.path}`), isError("USAGE", /is a LoRA adapter, not a model/));
  await assert.rejects(createLlamaCppEmbeddingModel(`${base}#lora=${adapter.path}`, {}), isError("USAGE", /embedding contexts cannot apply/));
});

test("malformed requests", async () => {
  const user = [{ role: "user" as const, content: "hi" }];
  const bad: Array<[Partial<GenerateRequest>, ErrorCode, RegExp]> = [
    [{ messages: [] }, "USAGE", /no messages/],
    [{ messages: [...user, { role: "tool", toolCallId: "call_x", content: "42" }] }, "USAGE", /tool result for call "call_x", which no earlier assistant message made/],
    [{ messages: [{ role: "assistant", content: "", toolCalls: [{ id: "c1", name: "f", arguments: {}, rawArguments: "{}" }] }] }, "USAGE", /call to f \(id "c1"\) has no tool message/],
    [{ messages: [{ role: "robot" as "user", content: "x" }] }, "USAGE", /unknown role "robot"/],
    [{ messages: user, temperature: -1 }, "USAGE", /temperature -1/],
    [{ messages: user, topP: 0 }, "USAGE", /topP 0/],
    [{ messages: user, maxTokens: 0 }, "USAGE", /maxTokens 0/],
    [{ messages: user, seed: 1.5 }, "USAGE", /seed 1.5/],
    [{ messages: user, stop: [""] }, "USAGE", /stop must be a list of non-empty strings/],
    [{ messages: user, toolChoice: "required" }, "USAGE", /toolChoice asks for a tool call but the request has no tools/],
    [{ messages: user, tools: [{ name: "f", parameters: { type: "object" } }], toolChoice: { name: "g" } }, "USAGE", /toolChoice names "g"/],
    [{ messages: user, tools: [{ name: "bad name!", parameters: { type: "object" } }] }, "USAGE", /tool name "bad name!"/],
    [{ messages: user, tools: [{ name: "f", parameters: { type: "object" } }, { name: "f", parameters: { type: "object" } }] }, "USAGE", /two tools are named "f"/],
    [{ messages: user, tools: [{ name: "f", parameters: { type: "string" } }] }, "USAGE", /parameters of tool "f" must be a JSON Schema object/],
    [{ messages: user, tools: [{ name: "f", parameters: { type: "object" } }], responseSchema: { type: "object" } }, "USAGE", /cannot combine tools with a responseSchema/],
    // node-llama-cpp itself would quietly turn these into a grammar for `null`.
    [{ messages: user, responseSchema: { type: "nonsense" } }, "USAGE", /the responseSchema at #: type "nonsense" is not supported/],
    [{ messages: user, responseSchema: {} }, "USAGE", /the responseSchema at #: the schema says nothing about the value/],
    [{ messages: user, responseSchema: { type: "object", properties: { id: { type: "string", pattern: "^a" } } } }, "USAGE", /at #\/properties\/id: "pattern" cannot be enforced/],
    [{ messages: user, tools: [{ name: "f", parameters: { type: "object", properties: { n: { type: "integer", minimum: 1 } } } }] }, "USAGE", /parameters of tool "f" at #\/properties\/n: "minimum" cannot be enforced/],
    [{ messages: user, responseSchema: { $ref: "https://example.com/s.json" } }, "USAGE", /\$ref .* must point into #\/\$defs/],
    [{ messages: user, responseSchema: { type: "object", properties: { a: { $ref: "#/$defs/A" } } } }, "USAGE", /\$ref "#\/\$defs\/A" names no definition/],
    [{ messages: [{ role: "user", content: "word ".repeat(300) }] }, "CONTEXT_OVERFLOW", /the prompt is \d+ tokens but the context holds 256/],
  ];
  for (const [request, code, pattern] of bad) {
    await assert.rejects(lm.generate(request as GenerateRequest), isError(code, pattern), pattern.source);
  }
  // The stream reports the same errors.
  await assert.rejects(async () => {
    for await (const _ of lm.stream({ messages: [] })) void _;
  }, isError("USAGE", /no messages/));
  // And after all that the model still works.
  const ok = await lm.generate({ messages: user, maxTokens: 2 });
  assert.equal(ok.usage.outputTokens, 2);
});

test("a registry-style string reference works like a parsed one", async () => {
  const m = await createLlamaCppLanguageModel(`gguf:${tiny.path}#threads=1`);
  assert.equal(m.id, `gguf:${tiny.path}#threads=1`);
  assert.equal(m.contextLength, 256);
  await m.close();
});

test("schemas are normalized to what llama.cpp enforces: anyOf as oneOf, annotations dropped", async () => {
  const schema = toGrammarSchema(
    {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "Answer",
      properties: { v: { anyOf: [{ type: "string", format: "email" }, { type: "null" }], default: null }, d: { $ref: "#/definitions/D" } },
      definitions: { D: { type: "string", format: "date" } },
      required: ["v"],
      additionalProperties: false,
    },
    "s",
  );
  assert.deepEqual(schema, {
    type: "object",
    properties: { v: { oneOf: [{ type: "string" }, { type: "null" }] }, d: { $ref: "#/$defs/D" } },
    $defs: { D: { type: "string", format: "date" } },
    required: ["v"],
    additionalProperties: false,
  });
  const r = await lm.generate({ messages: [{ role: "user", content: "x" }], responseSchema: { anyOf: [{ type: "boolean" }, { enum: ["a", "b"] }] }, maxTokens: 20 });
  assert.equal(r.finishReason, "stop");
  assert.ok(typeof r.json === "boolean" || r.json === "a" || r.json === "b", JSON.stringify(r.json));
});

test("NaN or infinity in the weights (a float tensor or a quantized block's scale): refused naming the tensor", async () => {
  const { openGguf } = await import("../../../src/formats/gguf/index.js");
  const { openSync, writeSync, closeSync } = await import("node:fs");
  const poison = async (weightType: "F32" | "Q8_0", bytes: Buffer): Promise<string> => {
    const path = join(dir, `nan-${weightType}.gguf`);
    await writeTinyLlamaGguf(path, { context: 256, weightType });
    const reader = await openGguf(path);
    const t = reader.tensors.find((x) => x.name === "blk.1.ffn_down.weight")!;
    await reader.close();
    assert.equal(t.type.name, weightType);
    const fd = openSync(path, "r+");
    writeSync(fd, bytes, 0, bytes.length, t.fileOffset + (weightType === "F32" ? 4 * 37 : 34 * 3)); // element 37, or block 3's scale
    closeSync(fd);
    return path;
  };
  const nan32 = Buffer.alloc(4);
  nan32.writeUInt32LE(0x7fc00000);
  const inf16 = Buffer.alloc(2);
  inf16.writeUInt16LE(0x7c00);
  await assert.rejects(create(`gguf:${await poison("F32", nan32)}`), isError("GGUF_INVALID", /weight tensor blk\.1\.ffn_down\.weight of model file .* holds NaN or infinity \(at element 37 /));
  await assert.rejects(create(`gguf:${await poison("Q8_0", inf16)}`), isError("GGUF_INVALID", /weight tensor blk\.1\.ffn_down\.weight .* holds NaN or infinity \(at element 96 /));
});
