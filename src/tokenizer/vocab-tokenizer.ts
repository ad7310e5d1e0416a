// A tokenizer for the vocabularies of downloaded GGUF models (VocabSpec), with llama.cpp's rules so
// that ids and text agree with llama.cpp: special tokens are cut out of the text first (control and
// unknown tokens only when asked, user-defined ones always; longest first), the pieces between are
// encoded by SentencePiece (spm.ts) or byte-level BPE (bpe-vocab.ts), BOS/EOS are added per the
// file's add_bos/add_eos; decoding drops control tokens unless asked, strips the space SentencePiece
// prefixed, and tidies spaces the way llama.cpp's "clean_spaces" does for the BPE pre-tokenizers that
// ask for it.
import { StrataError } from "../core/errors.js";
import { BytePairModel, cleansSpaces } from "./bpe-vocab.js";
import { mappedToBytes } from "./bytes.js";
import type { ChatMessage, ChatTemplateOptions } from "./chat.js";
import { renderJinjaChat } from "./jinja-chat.js";
import { SentencePieceModel } from "./spm.js";
import type { TextDecoderStream, TextTokenizer } from "./text-tokenizer.js";
import { PRE_TOKENIZERS, TOKEN_TYPE, type PreTokenizerName, type VocabSpec } from "./vocab.js";

/** Texts llama.cpp treats as end-of-turn markers (and as control tokens) whatever their type says. */
const END_OF_TURN_TEXTS = new Set(["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>", "<EOT>"]);
/** Fill-in-the-middle markers llama.cpp also makes control tokens (Qwen, StarCoder, CodeLlama, …). */
const FIM_TEXTS = new Set([
  "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "▁<PRE>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "▁<SUF>",
  "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "▁<MID>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
  "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
]);

export interface VocabEncodeOptions {
  /** Start with BOS (default false; the engine passes the file's add_bos). */
  addBos?: boolean;
  /** End with EOS when the file's add_eos asks for it (default false). */
  addEos?: boolean;
  /** Read control-token text ("<|im_start|>") as those tokens (default false: as plain text). */
  parseSpecial?: boolean;
}

type Fragment = string | number;

export class VocabTokenizer implements TextTokenizer {
  readonly spec: VocabSpec;
  readonly vocabSize: number;
  readonly pre: PreTokenizerName;
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;
  readonly endOfGenerationIds: readonly number[];
  private readonly types: Uint8Array;
  private readonly ids = new Map<string, number>();
  /** Special tokens by decreasing text length (the order llama.cpp cuts them out). */
  private readonly specials: number[];
  private readonly spm?: SentencePieceModel;
  private readonly bpe?: BytePairModel;
  private readonly addSpacePrefix: boolean;
  private readonly pieces: Uint8Array[];

  constructor(spec: VocabSpec) {
    this.spec = spec;
    const n = spec.tokens.length;
    this.vocabSize = n;
    const bad = (what: string): never => {
      throw new StrataError("TOKENIZER_INVALID", `the vocabulary ${what}`, "the file's tokenizer.ggml.* keys are damaged; download or convert the model again");
    };
    if (n === 0) bad("has no tokens");
    for (const [k, v] of [["scores", spec.scores], ["token types", spec.types]] as const) if (v && v.length !== n) bad(`has ${n} tokens but ${v.length} ${k}`);
    for (const [k, v] of Object.entries({ bos: spec.bosId, eos: spec.eosId, unk: spec.unkId, eot: spec.eotId })) if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v < n)) bad(`names ${k} token ${v}, outside 0–${n - 1}`);
    this.pre = spec.pre ?? "default";
    if (!(PRE_TOKENIZERS as readonly string[]).includes(this.pre)) bad(`uses the pre-tokenizer "${this.pre}"; supported: ${PRE_TOKENIZERS.join(", ")}`);
    this.types = Uint8Array.from(spec.types ?? new Array<number>(n).fill(TOKEN_TYPE.normal));
    spec.tokens.forEach((t, i) => {
      this.ids.set(t, i); // a repeated text maps to its last id, as in llama.cpp
      if (END_OF_TURN_TEXTS.has(t) || FIM_TEXTS.has(t)) this.types[i] = TOKEN_TYPE.control;
    });
    const spm = spec.model === "llama";
    this.addBosToken = spec.addBos ?? spm;
    this.addEosToken = spec.addEos ?? false;
    this.addSpacePrefix = spm && (spec.addSpacePrefix ?? true);
    if (this.addBosToken && spec.bosId === undefined) bad("asks for BOS (add_bos_token) but names no bos_token_id");
    if (spm) this.spm = new SentencePieceModel(this.ids, spec.scores ?? new Array<number>(n).fill(0));
    else this.bpe = new BytePairModel(this.ids, spec.merges ?? [], this.pre);
    this.specials = [];
    for (let i = 0; i < n; i++) if (this.isSpecialType(i) || this.types[i] === TOKEN_TYPE.userDefined) this.specials.push(i);
    this.specials.sort((a, b) => spec.tokens[b]!.length - spec.tokens[a]!.length || a - b);
    this.pieces = spec.tokens.map((t, i) => this.piece(t, i));
    const eog = new Set<number>();
    for (const id of [spec.eosId, spec.eotId]) if (id !== undefined) eog.add(id);
    spec.tokens.forEach((t, i) => END_OF_TURN_TEXTS.has(t) && eog.add(i));
    this.endOfGenerationIds = [...eog];
  }

  get bosId(): number | undefined {
    return this.spec.bosId;
  }

  get eosId(): number | undefined {
    return this.spec.eosId;
  }

  get kind(): string {
    return this.spec.model === "llama" ? "SentencePiece (llama)" : `byte-level BPE (gpt2, pre-tokenizer ${this.pre})`;
  }

  private isSpecialType(id: number): boolean {
    const t = this.types[id];
    return t === TOKEN_TYPE.control || t === TOKEN_TYPE.unknown;
  }

  tokenText(id: number): string {
    this.checkId(id);
    return this.spec.tokens[id]!;
  }

  /** The id of a token's exact text, if it is one. */
  tokenId(text: string): number | undefined {
    return this.ids.get(text);
  }

  encode(text: string, options: VocabEncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.addBos) out.push(this.spec.bosId!);
    let prevSpecial = true; // SentencePiece prefixes a space to the first text and to text after a special token
    for (const f of this.partition(text, options.parseSpecial ?? false)) {
      if (typeof f === "number") {
        out.push(f);
        prevSpecial = true;
      } else if (this.spm) {
        this.spm.encode(((this.addSpacePrefix && prevSpecial ? " " : "") + f).replace(/ /g, "\u2581"), out);
        prevSpecial = false;
      } else {
        this.bpe!.encode(f, out);
      }
    }
    if (options.addEos && this.addEosToken && this.spec.eosId !== undefined) out.push(this.spec.eosId);
    return out;
  }

  /** Cuts special-token text out of `text`: strings to encode and ids, in order. */
  private partition(text: string, parseSpecial: boolean): Fragment[] {
    let frags: Fragment[] = text === "" ? [] : [text];
    for (const id of this.specials) {
      if (!parseSpecial && this.isSpecialType(id)) continue;
      const tok = this.spec.tokens[id]!;
      if (tok === "") continue;
      const next: Fragment[] = [];
      for (const f of frags) {
        if (typeof f === "number" || !f.includes(tok)) {
          next.push(f);
          continue;
        }
        let at = 0;
        for (let hit = f.indexOf(tok); hit >= 0; hit = f.indexOf(tok, at)) {
          if (hit > at) next.push(f.slice(at, hit));
          next.push(id);
          at = hit + tok.length;
        }
        if (at < f.length) next.push(f.slice(at));
      }
      frags = next;
    }
    return frags;
  }

  /** A token's bytes when printed with special tokens shown (llama.cpp's token_to_piece). */
  private piece(text: string, id: number): Uint8Array {
    const t = this.types[id];
    if (t === TOKEN_TYPE.control || t === TOKEN_TYPE.unknown || t === TOKEN_TYPE.userDefined) return Buffer.from(text, "utf8");
    if (t === TOKEN_TYPE.normal) {
      if (this.spm) return Buffer.from(text.replace(/\u2581/g, " "), "utf8");
      return mappedToBytes(text) ?? Buffer.from(text, "utf8");
    }
    if (t === TOKEN_TYPE.byte && this.spm) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
      return m ? Uint8Array.of(parseInt(m[1]!, 16)) : Buffer.from(text, "utf8");
    }
    return new Uint8Array(0);
  }

  /** Bytes of one token; control and unknown tokens are empty unless `special`. */
  tokenBytes(id: number, special = false): Uint8Array {
    this.checkId(id);
    return !special && this.isSpecialType(id) ? new Uint8Array(0) : this.pieces[id]!;
  }

  /**
   * Text of ids as llama.cpp's detokenize gives it (remove_special off): special tokens shown unless
   * `skipSpecial`, the first token's prefixed space removed (SentencePiece), spaces tidied (clean_spaces).
   */
  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    const special = !(options.skipSpecial ?? false);
    const parts: Uint8Array[] = [];
    let strip = this.addSpacePrefix;
    for (const id of ids) {
      let p = this.tokenBytes(id, special);
      if (strip && p.length > 0 && p[0] === 0x20) p = p.subarray(1);
      strip = false;
      parts.push(p);
    }
    let bytes: Uint8Array = Buffer.concat(parts);
    if (this.bpe && cleansSpaces(this.pre)) bytes = cleanSpaces(bytes);
    return new TextDecoder().decode(bytes);
  }

  /**
   * Streaming text of generated ids, as llama.cpp prints a generation: the first token loses the
   * space SentencePiece prefixes (detokenize's remove_space), later ones keep theirs; no clean-up.
   */
  decoder(options: { skipSpecial?: boolean } = {}): TextDecoderStream {
    const special = !(options.skipSpecial ?? false);
    const text = new TextDecoder("utf-8", { ignoreBOM: true });
    let first = this.addSpacePrefix;
    const bytesOf = (id: number): Uint8Array => {
      let p = this.tokenBytes(id, special);
      if (first && p.length > 0 && p[0] === 0x20) p = p.subarray(1);
      first = false;
      return p;
    };
    return {
      push: (ids) => text.decode(Buffer.concat((typeof ids === "number" ? [ids] : ids).map(bytesOf)), { stream: true }),
      end: () => text.decode(),
    };
  }

  get chatTemplate(): string | undefined {
    return this.spec.chatTemplate;
  }

  /** The conversation as the file's chat template writes it (BOS/EOS texts given to the template). */
  renderChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    const template = this.spec.chatTemplate;
    if (!template) throw new StrataError("USAGE", "the model file has no chat template (tokenizer.chat_template)", "use completion with a prompt you format yourself");
    const name = (id: number | undefined): string => (id === undefined ? "" : this.spec.tokens[id]!);
    return renderJinjaChat(template, messages, { addGenerationPrompt: options.addGenerationPrompt ?? false, bosToken: name(this.spec.bosId), eosToken: name(this.spec.eosId) });
  }

  /**
   * Ids of the rendered conversation, special tokens parsed, BOS per the file — unless the template
   * already wrote the BOS text (Llama 3, Mistral), which would otherwise start the prompt twice.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    const text = this.renderChat(messages, options);
    const bos = this.spec.bosId === undefined ? undefined : this.spec.tokens[this.spec.bosId];
    const written = bos !== undefined && bos !== "" && text.startsWith(bos);
    return this.encode(text, { addBos: (options.addBos ?? this.addBosToken) && !written, parseSpecial: true });
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new StrataError("USAGE", `token id ${id} is outside the vocabulary (0–${this.vocabSize - 1})`, "decode only ids this tokenizer produced");
  }
}

/**
 * llama.cpp's clean_spaces, on bytes: drop the space before ? ! . , ; drop the spaces around a lone
 * apostrophe (" ' "); drop the space before 's 'm 're 've. Each pass reads the previous pass's output
 * as it is rewritten in place, as llama.cpp does, so overlapping cases come out the same.
 */
function cleanSpaces(src: Uint8Array): Uint8Array {
  const t = Uint8Array.from(src);
  const SP = 0x20;
  const Q = 0x27;
  let total = t.length;
  // pass 1
  let n = total ? 1 : 0;
  for (let i = 1; i < total; i++) {
    const x = t[i]!;
    if (t[i - 1] === SP && (x === 0x3f || x === 0x21 || x === 0x2e || x === 0x2c)) n--;
    t[n++] = x;
  }
  total = n;
  // pass 2
  n = total ? 1 : 0;
  for (let i = 1; i < total; i++) {
    const x = t[i]!;
    if (x === Q && i + 1 < total && t[i - 1] === SP && t[i + 1] === SP) {
      n--;
      t[++i] = 0;
    }
    t[n++] = x;
  }
  total = n;
  // pass 3
  n = total ? 1 : 0;
  for (let i = 1; i < total; i++) {
    const x = t[i]!;
    if (t[i - 1] === SP && x === Q && i + 1 < total) {
      const x1 = t[i + 1]!;
      if (x1 === 0x73 || x1 === 0x6d) n--; // 's 'm
      else if (x1 !== 0x74 && x1 !== 0x64 && i + 2 < total) {
        const x2 = t[i + 2]!;
        if ((x1 === 0x72 && x2 === 0x65) || (x1 === 0x76 && x2 === 0x65)) n--; // 're 've
      }
    }
    t[n++] = x;
  }
  return t.subarray(0, n);
}
