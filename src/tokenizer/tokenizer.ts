// The byte-level BPE tokenizer: a vocabulary of the 256 byte values, the tokens its merges made,
// and the special tokens (special.ts). Encoding pre-tokenises text GPT-2's way, turns each piece
// into its UTF-8 bytes and applies the merges by rank; pieces are cached, so common words cost one
// Map lookup. Decoding concatenates the tokens' bytes and reads them as UTF-8, so any text comes
// back exactly, and a character split across tokens is whole again once all its tokens are there.
//
// Token ids: 0–255 are the bytes (id = byte value); then every token the merges produced, in the
// order they were first produced; then the special tokens. Two merges that produce the same bytes
// (`a`+`bc` and `ab`+`c`) produce the same token, so merges can outnumber learned tokens.
import { StrataError } from "../core/errors.js";
import { BYTE_TO_CHAR, utf8Encode } from "./bytes.js";
import { mergeWord, type MergeTable } from "./merge.js";
import { pieceEnd } from "./pretokenize.js";
import { escapeRegExp, specialTokenList, SPECIAL_TOKEN_KINDS, type SpecialTokenKind, type SpecialTokens } from "./special.js";
import { applyChatTemplate, chatTemplateJinja, renderChat, type ChatMessage, type ChatTemplateOptions } from "./chat.js";
import { toGgufTokenizerMetadata, type GgufTokenizerMetadata, type GgufTokenizerOptions } from "./gguf.js";

/** What a tokenizer is made of; everything else is derived from it. */
export interface TokenizerSpec {
  /** Learned merges in rank order: the two token ids merged. */
  merges: ReadonlyArray<readonly [number, number]>;
  /** The five special-token strings (defaults in special.ts). */
  specialTokens?: Partial<SpecialTokens>;
  /** More special tokens, after the five. */
  extraSpecialTokens?: readonly string[];
  /** Whether a sequence given to the model starts with BOS (chat templates, GGUF's add_bos_token). Default true. */
  addBosToken?: boolean;
}

export interface EncodeOptions {
  /**
   * Special-token strings in the text to read as special tokens: "all", or a list of them. By
   * default none: a user who types "<|im_end|>" gets the tokens of those characters, never the
   * special token, so text cannot forge a turn boundary.
   */
  allowedSpecial?: "all" | readonly string[];
  /** Put BOS first (default false). */
  addBos?: boolean;
  /** Put EOS last (default false). */
  addEos?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text (default false: they appear as their strings). */
  skipSpecial?: boolean;
}

/** Cached pieces before the cache is emptied (bounds memory on endless distinct input). */
const CACHE_LIMIT = 200_000;
/** Pieces longer than this (runs of spaces, say) are encoded each time, not cached. */
const LONGEST_CACHED = 256;

/**
 * Pre-tokenised pieces → their token ids, an open-addressing hash table probed with a span of the
 * text (hash and compare code units in place), so a cached piece costs no string allocation.
 */
class PieceCache {
  /** Entry index + 1 per slot; 0 is empty. */
  private slots = new Int32Array(1 << 16);
  private hashes: number[] = [];
  private keys: string[] = [];
  /** Where each entry's ids start in `pool`, and how many. */
  readonly start: number[] = [];
  readonly count: number[] = [];
  pool = new Int32Array(1 << 16);
  private poolLength = 0;

  /** The entry for text[s, e) with hash h, or -1. */
  find(text: string, s: number, e: number, h: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    const n = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = slots[slot]!;
      if (v === 0) return -1;
      const entry = v - 1;
      if (this.hashes[entry] !== h) continue;
      const key = this.keys[entry]!;
      if (key.length !== n) continue;
      let k = 0;
      while (k < n && key.charCodeAt(k) === text.charCodeAt(s + k)) k++;
      if (k === n) return entry;
    }
  }

  add(key: string, h: number, ids: readonly number[]): number {
    if (this.keys.length >= CACHE_LIMIT) this.clear();
    if ((this.keys.length + 1) * 2 > this.slots.length) this.grow();
    const entry = this.keys.length;
    this.keys.push(key);
    this.hashes.push(h);
    if (this.poolLength + ids.length > this.pool.length) {
      const bigger = new Int32Array(Math.max(this.pool.length * 2, this.poolLength + ids.length));
      bigger.set(this.pool.subarray(0, this.poolLength));
      this.pool = bigger;
    }
    this.start.push(this.poolLength);
    this.count.push(ids.length);
    for (let i = 0; i < ids.length; i++) this.pool[this.poolLength++] = ids[i]!;
    this.place(entry);
    return entry;
  }

  private place(entry: number): void {
    const mask = this.slots.length - 1;
    let slot = this.hashes[entry]! & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let entry = 0; entry < this.keys.length; entry++) this.place(entry);
  }

  private clear(): void {
    this.slots.fill(0);
    this.hashes.length = 0;
    this.keys.length = 0;
    this.start.length = 0;
    this.count.length = 0;
    this.poolLength = 0;
  }
}

export class Tokenizer {
  /** Tokens in all: bytes, learned, special. */
  readonly vocabSize: number;
  /** Bytes plus learned tokens; the first special token's id. */
  readonly normalVocabSize: number;
  readonly merges: ReadonlyArray<readonly [number, number]>;
  readonly specialTokens: Readonly<SpecialTokens>;
  readonly extraSpecialTokens: readonly string[];
  readonly addBosToken: boolean;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly imStartId: number;
  readonly imEndId: number;

  /** Each token's GPT-2 mapped text (special tokens: their string). */
  private readonly texts: string[];
  private readonly table: MergeTable;
  private readonly specialIds = new Map<string, number>();
  private readonly splitters = new Map<string, RegExp>();
  private readonly cache = new PieceCache();
  /** All tokens' bytes back to back; token i is bytePool[byteStart[i], byteStart[i + 1]). */
  private readonly bytePool: Uint8Array;
  private readonly byteStart: Int32Array;
  private scratch: Uint8Array = new Uint8Array(256);

  constructor(spec: TokenizerSpec) {
    const merges = spec.merges.map(([a, b]) => [a, b] as const);
    const texts = BYTE_TO_CHAR.slice();
    const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
    const idOfText = new Map<string, number>(texts.map((t, i) => [t, i]));
    const results = new Int32Array(merges.length);
    for (let r = 0; r < merges.length; r++) {
      const [a, b] = merges[r]!;
      const n = texts.length;
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= n || b >= n) {
        throw new StrataError("TOKENIZER_INVALID", `merge ${r} joins tokens ${a} and ${b}, but only tokens 0–${n - 1} exist by then`, "the tokenizer file is damaged: train the tokenizer again");
      }
      const text = texts[a]! + texts[b]!;
      let id = idOfText.get(text);
      if (id === undefined) {
        id = n;
        texts.push(text);
        const joined = new Uint8Array(bytes[a]!.length + bytes[b]!.length);
        joined.set(bytes[a]!);
        joined.set(bytes[b]!, bytes[a]!.length);
        bytes.push(joined);
        idOfText.set(text, id);
      }
      results[r] = id;
    }
    const normal = texts.length;
    const ranks = new Map<number, number>();
    for (let r = 0; r < merges.length; r++) {
      const [a, b] = merges[r]!;
      const key = a * normal + b;
      if (ranks.has(key)) {
        throw new StrataError("TOKENIZER_INVALID", `merge ${r} repeats merge ${ranks.get(key)} (tokens ${a} and ${b})`, "the tokenizer file is damaged: train the tokenizer again");
      }
      ranks.set(key, r);
    }

    const specials = specialTokenList(spec.specialTokens, spec.extraSpecialTokens ?? []);
    const encoder = new TextEncoder();
    for (const s of specials) {
      if (idOfText.has(s)) {
        throw new StrataError("TOKENIZER_INVALID", `special token ${JSON.stringify(s)} has the same text as learned token ${idOfText.get(s)}`, "pick a special-token string that mixes letters and punctuation, like <|name|>");
      }
      this.specialIds.set(s, texts.length);
      texts.push(s);
      bytes.push(encoder.encode(s));
    }

    this.texts = texts;
    this.byteStart = new Int32Array(bytes.length + 1);
    for (let i = 0; i < bytes.length; i++) this.byteStart[i + 1] = this.byteStart[i]! + bytes[i]!.length;
    this.bytePool = new Uint8Array(this.byteStart[bytes.length]!);
    bytes.forEach((b, i) => this.bytePool.set(b, this.byteStart[i]!));
    this.table = { ranks, results, keyBase: normal };
    this.merges = merges;
    this.normalVocabSize = normal;
    this.vocabSize = texts.length;
    const kinds = Object.fromEntries(SPECIAL_TOKEN_KINDS.map((k, i) => [k, specials[i]!])) as unknown as SpecialTokens;
    this.specialTokens = Object.freeze(kinds);
    this.extraSpecialTokens = Object.freeze(specials.slice(SPECIAL_TOKEN_KINDS.length));
    this.addBosToken = spec.addBosToken ?? true;
    const idOf = (k: SpecialTokenKind): number => normal + SPECIAL_TOKEN_KINDS.indexOf(k);
    this.bosId = idOf("bos");
    this.eosId = idOf("eos");
    this.padId = idOf("pad");
    this.imStartId = idOf("imStart");
    this.imEndId = idOf("imEnd");
  }

  /** The spec this tokenizer was built from (what a file stores). */
  get spec(): Required<TokenizerSpec> {
    return {
      merges: this.merges,
      specialTokens: { ...this.specialTokens },
      extraSpecialTokens: this.extraSpecialTokens,
      addBosToken: this.addBosToken,
    };
  }

  /** Tokens that end a generated turn: EOS and ChatML's <|im_end|>. */
  get endOfGenerationIds(): readonly number[] {
    return [this.eosId, this.imEndId];
  }

  isSpecial(id: number): boolean {
    return id >= this.normalVocabSize && id < this.vocabSize;
  }

  /** The id of a special-token string, if it is one. */
  specialId(text: string): number | undefined {
    return this.specialIds.get(text);
  }

  /** A token's text: GPT-2 mapped bytes for learned tokens (`Ġthe`), the string for special ones. */
  tokenText(id: number): string {
    this.checkId(id);
    return this.texts[id]!;
  }

  /** A token's bytes (special tokens: their string's UTF-8). A copy. */
  tokenBytes(id: number): Uint8Array {
    this.checkId(id);
    return this.bytePool.slice(this.byteStart[id]!, this.byteStart[id + 1]!);
  }

  /** Text to token ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.addBos) out.push(this.bosId);
    const splitter = this.splitterFor(options.allowedSpecial);
    if (splitter) {
      let last = 0;
      splitter.lastIndex = 0;
      for (let m = splitter.exec(text); m !== null; m = splitter.exec(text)) {
        if (m.index > last) this.encodeOrdinary(text.slice(last, m.index), out);
        out.push(this.specialIds.get(m[0])!);
        last = m.index + m[0].length;
      }
      if (last < text.length) this.encodeOrdinary(last === 0 ? text : text.slice(last), out);
    } else {
      this.encodeOrdinary(text, out);
    }
    if (options.addEos) out.push(this.eosId);
    return out;
  }

  /** Text with no special tokens read; appends the ids to `out`. */
  private encodeOrdinary(text: string, out: number[]): void {
    const cache = this.cache;
    const len = text.length;
    for (let i = 0; i < len; ) {
      const e = pieceEnd(text, i, len);
      const c = text.charCodeAt(i);
      if (e === i + 1 && c < 0x80) {
        out.push(c); // one ASCII character: one byte, nothing to merge
        i = e;
        continue;
      }
      if (e - i > LONGEST_CACHED) {
        for (const id of this.encodePiece(text.slice(i, e))) out.push(id); // rare; not worth keeping
        i = e;
        continue;
      }
      let h = 0x811c9dc5 | 0; // FNV-1a over code units
      for (let k = i; k < e; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
      let entry = cache.find(text, i, e, h);
      if (entry < 0) {
        const piece = text.slice(i, e);
        entry = cache.add(piece, h, this.encodePiece(piece));
      }
      const pool = cache.pool;
      const end = cache.start[entry]! + cache.count[entry]!;
      for (let k = cache.start[entry]!; k < end; k++) out.push(pool[k]!);
      i = e;
    }
  }

  private encodePiece(piece: string): number[] {
    const enc = utf8Encode(piece, this.scratch);
    this.scratch = enc.buf;
    const sym = new Array<number>(enc.length);
    for (let i = 0; i < enc.length; i++) sym[i] = enc.buf[i]!;
    return mergeWord(sym, this.table);
  }

  /** The regex that finds the allowed special tokens, or undefined when none are allowed. */
  private splitterFor(allowed: EncodeOptions["allowedSpecial"]): RegExp | undefined {
    if (allowed === undefined || (allowed !== "all" && allowed.length === 0)) return undefined;
    const list = allowed === "all" ? [...this.specialIds.keys()] : [...new Set(allowed)];
    const key = allowed === "all" ? "\u0000all" : list.join("\u0000");
    let re = this.splitters.get(key);
    if (!re) {
      for (const s of list) {
        if (!this.specialIds.has(s)) {
          throw new StrataError("USAGE", `${JSON.stringify(s)} is not a special token of this tokenizer`, `allow only its special tokens: ${[...this.specialIds.keys()].join(" ")}`);
        }
      }
      // Longest first, so a special token that starts with another is found whole.
      const alternatives = list.sort((x, y) => y.length - x.length).map(escapeRegExp);
      re = new RegExp(alternatives.join("|"), "g");
      this.splitters.set(key, re);
    }
    return re;
  }

  /** The bytes of a token sequence (special tokens as their strings' UTF-8 unless skipped). */
  decodeBytes(ids: readonly number[], options: DecodeOptions = {}): Uint8Array {
    const starts = this.byteStart;
    const limit = options.skipSpecial ? this.normalVocabSize : this.vocabSize;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < this.vocabSize && Number.isInteger(id))) this.checkId(id);
      if (id < limit) total += starts[id + 1]! - starts[id]!;
    }
    const out = new Uint8Array(total);
    const pool = this.bytePool;
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= limit) continue;
      const end = starts[id + 1]!;
      for (let k = starts[id]!; k < end; k++) out[at++] = pool[k]!;
    }
    return out;
  }

  /**
   * Token ids to text. Bytes that are not valid UTF-8 (a sequence cut inside a character) become
   * U+FFFD; use `decoder()` to decode a stream token by token.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(this.decodeBytes(ids, options));
  }

  /**
   * A decoder for tokens that arrive one at a time (sampling): `push` returns the text that is
   * complete so far and holds back the bytes of a character still cut; `end` returns the rest.
   */
  decoder(options: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder(this, options);
  }

  /** ChatML text for a conversation: what the Jinja template renders (no BOS). */
  renderChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    return renderChat(this.specialTokens, messages, options);
  }

  /** A conversation as token ids, the chat markers as special tokens and the messages as text. */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return applyChatTemplate(this, messages, options);
  }

  /** The Jinja template for GGUF's `tokenizer.chat_template`; renders what `renderChat` returns. */
  chatTemplate(): string {
    return chatTemplateJinja(this.specialTokens);
  }

  /** The `tokenizer.*` metadata of a GGUF file for llama.cpp's `gpt2` tokenizer. */
  toGgufTokenizerMetadata(options: GgufTokenizerOptions = {}): GgufTokenizerMetadata {
    return toGgufTokenizerMetadata(this, options);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new StrataError("USAGE", `token id ${id} is outside the vocabulary (0–${this.vocabSize - 1})`, "decode only ids this tokenizer produced");
    }
  }
}

export class StreamDecoder {
  private readonly text = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: DecodeOptions,
  ) {}

  push(ids: number | readonly number[]): string {
    const list = typeof ids === "number" ? [ids] : ids;
    return this.text.decode(this.tokenizer.decodeBytes(list, this.options), { stream: true });
  }

  end(): string {
    return this.text.decode();
  }
}
