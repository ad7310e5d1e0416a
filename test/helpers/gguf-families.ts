// GGUF files laid out like the model families people download — Llama 2 / TinyLlama and Mistral
// (SentencePiece "llama" vocabularies), Llama 3.1 / 3.2 (gpt2 + llama-bpe, rope_freqs, tied output),
// SmolLM2 (gpt2 + smollm, specials first, tied) and Qwen2.5 (qwen2 architecture, Q/K/V biases, gpt2
// + qwen2) — with each family's metadata keys, token types, special tokens and chat template, but
// small shapes, random weights and a vocabulary of about a thousand tokens built here: BPE merges
// learned from a mixed corpus (for SentencePiece: the merged pieces with ▁ for space, scored by
// rank), 256 byte tokens or byte characters, and the family's control tokens.
import { ggufValue, writeGguf, encodeTensorData, type EncodableType, type GgufTensorInput, type GgufValue } from "../../src/formats/gguf/index.js";
import { normalSource } from "../../src/core/random.js";
import { BYTE_TO_CHAR, mappedToBytes } from "../../src/tokenizer/bytes.js";
import { trainTokenizerFromTexts } from "../../src/tokenizer/train.js";
import { TOKEN_TYPE } from "../../src/tokenizer/vocab.js";

export const FAMILIES = ["llama2", "tinyllama", "mistral", "llama3.1", "llama3.2", "smollm2", "qwen2.5"] as const;
export type Family = (typeof FAMILIES)[number];

/** Text of every kind the tokenizers must agree on. */
export const MIXED_CORPUS = [
  "The quick brown fox jumps over the lazy dog. It's 2024, isn't it? We'll see, they've said.",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "const x = { a: 1, b: [2, 3] }; // comment\nfor (let i = 0; i < 10; i++) console.log(i * 123456);",
  "Café, naïve, résumé, über, São Paulo, Ærø, Ångström — déjà vu.",
  "日本語のテキストと中文文本，还有한국어 문장。",
  "Emoji: 🙂🚀👍🏽 and flags 🇫🇷, zero-width‍joiner 👩‍💻.",
  "   leading spaces, trailing   \n\n\ttabs\t\tand  double  spaces   \n",
  "Numbers 3.14159, 1,000,000 and 42nd; URLs https://example.com/a?b=c&d=e.",
  "He said 'hello' and \"bye\" ... ; what ' s this ? ok !",
];

const TRAIN_TEXT = [
  ...MIXED_CORPUS,
  "the cat sat on the mat and the dog ate the bone while the bird sang",
  "import numpy as np\nclass Model:\n    def __init__(self):\n        self.weights = np.zeros(10)\n",
  "Once upon a time there was a little girl who lived in a village near the forest.",
  "function add(a, b) { return a + b; } export default add;",
];

/** Merges and merged tokens learned from the corpus (GPT-2 byte characters), cached per size. */
const learned = new Map<number, { tokens: string[]; merges: string[] }>();
async function learnMerges(vocabSize: number): Promise<{ tokens: string[]; merges: string[] }> {
  const have = learned.get(vocabSize);
  if (have) return have;
  const texts = Array.from({ length: 40 }, (_, i) => TRAIN_TEXT[i % TRAIN_TEXT.length]! + ` ${i}`);
  const { tokenizer } = await trainTokenizerFromTexts(texts, { vocabSize, whenDataRunsOut: "stop" });
  const md = tokenizer.toGgufTokenizerMetadata();
  const n = tokenizer.normalVocabSize;
  const out = { tokens: md["tokenizer.ggml.tokens"].slice(0, n), merges: md["tokenizer.ggml.merges"] };
  learned.set(vocabSize, out);
  return out;
}

const CHAT_TEMPLATES = {
  llama2:
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
  tinyllama:
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
  mistral:
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
  llama3:
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
  smollm2:
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
  qwen2:
    "{%- if messages[0]['role'] == 'system' %}\n    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n{%- else %}\n    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n{%- endif %}\n{%- for message in messages %}\n    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n",
};

export interface FamilyVocab {
  metadata: Array<[string, GgufValue]>;
  tokens: string[];
}

/** A SentencePiece vocabulary as Llama 2, TinyLlama and Mistral ship it: <unk> <s> </s>, 256 <0xXX>, scored pieces. */
export async function spmVocab(template: string, size = 900): Promise<FamilyVocab> {
  const { tokens: learnedTokens } = await learnMerges(size);
  const tokens = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE.byte);
  }
  const seen = new Set(tokens);
  const pieces: string[] = [];
  const add = (p: string): void => {
    if (p !== "" && !seen.has(p)) {
      seen.add(p);
      pieces.push(p);
    }
  };
  // Merged pieces in merge order (valid UTF-8 only), then single characters (as SentencePiece lists them last).
  for (const t of learnedTokens.slice(256)) {
    const bytes = mappedToBytes(t)!;
    const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
    if (!text.includes("\uFFFD")) add(text.replace(/ /g, "\u2581"));
  }
  for (const ch of "▁etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ0123456789.,;:!?'\"()[]{}<>-_=+*/\\|&%$#@^~`éèàçüöñ日本語中文") add(ch);
  const scores = tokens.map(() => 0);
  pieces.forEach((p, i) => {
    tokens.push(p);
    types.push(TOKEN_TYPE.normal);
    scores.push(-i);
  });
  return {
    tokens,
    metadata: [
      ["tokenizer.ggml.model", ggufValue.str("llama")],
      ["tokenizer.ggml.tokens", ggufValue.strings(tokens)],
      ["tokenizer.ggml.scores", ggufValue.numbers("float32", scores)],
      ["tokenizer.ggml.token_type", ggufValue.numbers("int32", types)],
      ["tokenizer.ggml.bos_token_id", ggufValue.u32(1)],
      ["tokenizer.ggml.eos_token_id", ggufValue.u32(2)],
      ["tokenizer.ggml.unknown_token_id", ggufValue.u32(0)],
      ["tokenizer.ggml.add_bos_token", ggufValue.bool(true)],
      ["tokenizer.ggml.add_eos_token", ggufValue.bool(false)],
      ["tokenizer.chat_template", ggufValue.str(template)],
    ],
  };
}

interface BpeLayout {
  pre: "llama-bpe" | "smollm" | "qwen2";
  /** Special tokens placed before the byte-level tokens (SmolLM2) or after them (Llama 3, Qwen2.5). */
  specialsFirst: boolean;
  specials: Array<[string, number]>;
  bos: string;
  eos: string;
  eot?: string;
  pad?: string;
  addBos: boolean;
  template: string;
}

const LAYOUTS: Record<"llama3" | "smollm2" | "qwen2", BpeLayout> = {
  llama3: {
    pre: "llama-bpe",
    specialsFirst: false,
    specials: [
      ["<|begin_of_text|>", TOKEN_TYPE.control],
      ["<|end_of_text|>", TOKEN_TYPE.control],
      ["<|reserved_special_token_0|>", TOKEN_TYPE.control],
      ["<|reserved_special_token_1|>", TOKEN_TYPE.control],
      ["<|finetune_right_pad_id|>", TOKEN_TYPE.control],
      ["<|step_id|>", TOKEN_TYPE.control],
      ["<|start_header_id|>", TOKEN_TYPE.control],
      ["<|end_header_id|>", TOKEN_TYPE.control],
      ["<|eom_id|>", TOKEN_TYPE.control],
      ["<|eot_id|>", TOKEN_TYPE.control],
      ["<|python_tag|>", TOKEN_TYPE.control],
      ...Array.from({ length: 8 }, (_, i): [string, number] => [`<|reserved_special_token_${i + 2}|>`, TOKEN_TYPE.control]),
    ],
    bos: "<|begin_of_text|>",
    eos: "<|eot_id|>",
    addBos: true,
    template: CHAT_TEMPLATES.llama3,
  },
  smollm2: {
    pre: "smollm",
    specialsFirst: true,
    specials: [
      ["<|endoftext|>", TOKEN_TYPE.control],
      ["<|im_start|>", TOKEN_TYPE.control],
      ["<|im_end|>", TOKEN_TYPE.control],
      ["<repo_name>", TOKEN_TYPE.control],
      ["<reponame>", TOKEN_TYPE.control],
      ["<file_sep>", TOKEN_TYPE.control],
      ["<filename>", TOKEN_TYPE.control],
      ["<gh_stars>", TOKEN_TYPE.control],
      ["<issue_start>", TOKEN_TYPE.control],
    ],
    bos: "<|im_start|>",
    eos: "<|im_end|>",
    pad: "<|im_end|>",
    addBos: false,
    template: CHAT_TEMPLATES.smollm2,
  },
  qwen2: {
    pre: "qwen2",
    specialsFirst: false,
    specials: [
      ["<|endoftext|>", TOKEN_TYPE.control],
      ["<|im_start|>", TOKEN_TYPE.control],
      ["<|im_end|>", TOKEN_TYPE.control],
      ["<|object_ref_start|>", TOKEN_TYPE.control],
      ["<|object_ref_end|>", TOKEN_TYPE.control],
      ["<|vision_start|>", TOKEN_TYPE.control],
      ["<tool_call>", TOKEN_TYPE.userDefined],
      ["</tool_call>", TOKEN_TYPE.userDefined],
      ["<|fim_prefix|>", TOKEN_TYPE.userDefined],
      ["<|fim_middle|>", TOKEN_TYPE.userDefined],
    ],
    bos: "<|endoftext|>",
    eos: "<|im_end|>",
    pad: "<|endoftext|>",
    addBos: false,
    template: CHAT_TEMPLATES.qwen2,
  },
};

/** A GPT-2 byte-level BPE vocabulary in the family's layout. */
export async function bpeVocab(layout: BpeLayout, size = 900): Promise<FamilyVocab> {
  const { tokens: learnedTokens, merges } = await learnMerges(size);
  const normal = [...BYTE_TO_CHAR, ...learnedTokens.slice(256)];
  const specials = layout.specials.map(([t]) => t);
  const tokens = layout.specialsFirst ? [...specials, ...normal] : [...normal, ...specials];
  const specialType = new Map(layout.specials);
  const types = tokens.map((t) => specialType.get(t) ?? TOKEN_TYPE.normal);
  const id = (t: string): number => tokens.indexOf(t);
  const md: Array<[string, GgufValue]> = [
    ["tokenizer.ggml.model", ggufValue.str("gpt2")],
    ["tokenizer.ggml.pre", ggufValue.str(layout.pre)],
    ["tokenizer.ggml.tokens", ggufValue.strings(tokens)],
    ["tokenizer.ggml.token_type", ggufValue.numbers("int32", types)],
    ["tokenizer.ggml.merges", ggufValue.strings(merges)],
    ["tokenizer.ggml.bos_token_id", ggufValue.u32(id(layout.bos))],
    ["tokenizer.ggml.eos_token_id", ggufValue.u32(id(layout.eos))],
  ];
  if (layout.pad) md.push(["tokenizer.ggml.padding_token_id", ggufValue.u32(id(layout.pad))]);
  md.push(["tokenizer.ggml.add_bos_token", ggufValue.bool(layout.addBos)], ["tokenizer.chat_template", ggufValue.str(layout.template)]);
  return { tokens, metadata: md };
}

export async function familyVocab(family: Family): Promise<FamilyVocab> {
  switch (family) {
    case "llama2":
      return spmVocab(CHAT_TEMPLATES.llama2);
    case "tinyllama":
      return spmVocab(CHAT_TEMPLATES.tinyllama);
    case "mistral":
      return spmVocab(CHAT_TEMPLATES.mistral);
    case "llama3.1":
    case "llama3.2":
      return bpeVocab(LAYOUTS.llama3);
    case "smollm2":
      return bpeVocab(LAYOUTS.smollm2);
    case "qwen2.5":
      return bpeVocab(LAYOUTS.qwen2);
  }
}

export interface FamilyShape {
  arch: "llama" | "qwen2";
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  context: number;
  ropeBase: number;
  eps: number;
  tied: boolean;
  biases: boolean;
  ropeFreqs: boolean;
  slidingWindow?: number;
}

/** Each family's conventions at a small size (dim 64, or 256 for K-quants which need rows of 256). */
export function familyShape(family: Family, dim = 64): FamilyShape {
  const base = { dim, layers: 2, heads: 4, kvHeads: 2, ffn: dim * 2, context: 256, eps: 1e-5, tied: false, biases: false, ropeFreqs: false, arch: "llama" as const };
  switch (family) {
    case "llama2":
      return { ...base, kvHeads: 4, ropeBase: 10000 };
    case "tinyllama":
      return { ...base, ropeBase: 10000 };
    case "mistral":
      return { ...base, ropeBase: 1000000, slidingWindow: 4096 };
    case "llama3.1":
      return { ...base, ropeBase: 500000, ropeFreqs: true };
    case "llama3.2":
      return { ...base, ropeBase: 500000, ropeFreqs: true, tied: true };
    case "smollm2":
      return { ...base, ropeBase: 100000, tied: true };
    case "qwen2.5":
      return { ...base, arch: "qwen2", ropeBase: 1000000, eps: 1e-6, tied: true, biases: true };
  }
}

/** Llama 3.1's rope_freqs for a head dimension (factor 8, low/high frequency factors 1 and 4, original context 8192). */
export function llama31RopeFreqs(headDim: number, base: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  const low = 8192 / 1;
  const high = 8192 / 4;
  for (let i = 0; i < headDim / 2; i++) {
    const freq = 1 / Math.pow(base, (2 * i) / headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < high) out[i] = 1;
    else if (wavelen > low) out[i] = 8;
    else {
      const smooth = (8192 / wavelen - 1) / (4 - 1);
      out[i] = 1 / ((1 - smooth) / 8 + smooth);
    }
  }
  return out;
}

export interface FamilyFile {
  path: string;
  family: Family;
  shape: FamilyShape;
  vocab: FamilyVocab;
}

/** Pads a vocabulary with unused tokens (as real files pad theirs to a round size). */
function padVocab(vocab: FamilyVocab, size: number): void {
  const start = vocab.tokens.length;
  for (let i = start; i < size; i++) vocab.tokens.push(`<|unused_${i}|>`);
  for (const entry of vocab.metadata) {
    const [key, value] = entry;
    if (value.type !== "array") continue;
    if (key === "tokenizer.ggml.tokens") entry[1] = ggufValue.strings(vocab.tokens);
    if (key === "tokenizer.ggml.token_type") entry[1] = ggufValue.numbers("int32", [...(value.value as number[]), ...new Array<number>(size - start).fill(TOKEN_TYPE.unused)]);
    if (key === "tokenizer.ggml.scores") entry[1] = ggufValue.numbers("float32", [...(value.value as number[]), ...new Array<number>(size - start).fill(-1e9)]);
  }
}

/** Writes a family's GGUF: weights of `type` (norms, biases and rope_freqs F32), seeded random values. */
export async function writeFamilyGguf(
  path: string,
  family: Family,
  options: {
    type?: EncodableType;
    dim?: number;
    seed?: number;
    ropeFreqScale?: number;
    /** Quantize only token_embd (llama.cpp dequantizes its rows exactly). */
    embeddingOnly?: boolean;
    /** Real sizes for benchmarks: the shape, and the vocabulary padded with unused tokens to this many. */
    shape?: Partial<FamilyShape>;
    vocabSize?: number;
  } = {},
): Promise<FamilyFile> {
  const type = options.type ?? "F32";
  const s = { ...familyShape(family, options.dim), ...options.shape };
  const vocab = await familyVocab(family);
  if (options.vocabSize && options.vocabSize > vocab.tokens.length) padVocab(vocab, options.vocabSize);
  const V = vocab.tokens.length;
  const D = s.dim / s.heads;
  const a = s.arch;
  const normal = normalSource(options.seed ?? 5);
  // Benchmark-sized files (vocabSize given) take uniform values of the same spread: normal draws of
  // half a billion weights would take minutes.
  let state = (options.seed ?? 5) >>> 0 || 1;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296 - 0.5;
  };
  const rand = (n: number, std: number, mean = 0): Float32Array => {
    const out = new Float32Array(n);
    if (options.vocabSize) for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(12) * uniform();
    else for (let i = 0; i < n; i++) out[i] = mean + std * normal();
    return out;
  };
  const tensors: GgufTensorInput[] = [];
  const matrix = (name: string, out: number, inp: number, std = 0.08): void => {
    tensors.push({ name, dims: [inp, out], type: "F32", data: rand(out * inp, std) });
  };
  const vector = (name: string, n: number, std: number, mean: number): void => {
    tensors.push({ name, dims: [n], type: "F32", data: rand(n, std, mean) });
  };
  // The embedding rows must fill whole blocks of the chosen type; small vocabularies make it the
  // first tensor llama.cpp dequantizes row by row (get_rows), so it checks the decoders too.
  matrix("token_embd.weight", V, s.dim, 0.5);
  if (s.ropeFreqs) tensors.push({ name: "rope_freqs.weight", dims: [D / 2], type: "F32", data: llama31RopeFreqs(D, s.ropeBase) });
  for (let l = 0; l < s.layers; l++) {
    const b = `blk.${l}`;
    vector(`${b}.attn_norm.weight`, s.dim, 0.1, 1);
    matrix(`${b}.attn_q.weight`, s.heads * D, s.dim);
    matrix(`${b}.attn_k.weight`, s.kvHeads * D, s.dim);
    matrix(`${b}.attn_v.weight`, s.kvHeads * D, s.dim);
    if (s.biases) {
      vector(`${b}.attn_q.bias`, s.heads * D, 0.3, 0);
      vector(`${b}.attn_k.bias`, s.kvHeads * D, 0.3, 0);
      vector(`${b}.attn_v.bias`, s.kvHeads * D, 0.3, 0);
    }
    matrix(`${b}.attn_output.weight`, s.dim, s.heads * D);
    vector(`${b}.ffn_norm.weight`, s.dim, 0.1, 1);
    matrix(`${b}.ffn_gate.weight`, s.ffn, s.dim);
    matrix(`${b}.ffn_up.weight`, s.ffn, s.dim);
    matrix(`${b}.ffn_down.weight`, s.dim, s.ffn);
  }
  vector("output_norm.weight", s.dim, 0.1, 1);
  if (!s.tied) matrix("output.weight", V, s.dim, 0.3);
  for (const t of tensors) {
    if (options.embeddingOnly && t.name !== "token_embd.weight") continue;
    if (type !== "F32" && t.dims.length === 2 && t.dims[0]! % (type.endsWith("_K") ? 256 : 32) === 0) {
      t.data = encodeTensorData(type, t.data as Float32Array);
      t.type = type;
    }
  }
  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", ggufValue.str(a)],
    ["general.name", ggufValue.str(`tiny-${family}`)],
    [`${a}.context_length`, ggufValue.u32(s.context)],
    [`${a}.embedding_length`, ggufValue.u32(s.dim)],
    [`${a}.block_count`, ggufValue.u32(s.layers)],
    [`${a}.feed_forward_length`, ggufValue.u32(s.ffn)],
    [`${a}.attention.head_count`, ggufValue.u32(s.heads)],
    [`${a}.attention.head_count_kv`, ggufValue.u32(s.kvHeads)],
    [`${a}.attention.layer_norm_rms_epsilon`, ggufValue.f32(s.eps)],
    [`${a}.rope.freq_base`, ggufValue.f32(s.ropeBase)],
    [`${a}.rope.dimension_count`, ggufValue.u32(D)],
  ];
  if (a === "llama") metadata.push([`llama.vocab_size`, ggufValue.u32(V)]);
  if (s.slidingWindow) metadata.push([`${a}.attention.sliding_window`, ggufValue.u32(s.slidingWindow)]);
  if (options.ropeFreqScale) metadata.push([`${a}.rope.scaling.type`, ggufValue.str("linear")], [`${a}.rope.scaling.factor`, ggufValue.f32(1 / options.ropeFreqScale)]);
  metadata.push(["general.file_type", ggufValue.u32(type === "F32" ? 0 : 7)], ...vocab.metadata);
  await writeGguf(path, { metadata, tensors });
  return { path, family, shape: s, vocab };
}
