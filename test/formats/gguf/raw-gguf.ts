// Builds GGUF bytes field by field, with no checks at all, so tests can write exactly the broken file
// they mean (wrong counts, huge lengths, bad offsets) — the writer would refuse to.
export class RawGguf {
  private parts: number[] = [];

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(...b);
    return this;
  }

  u64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(...b);
    return this;
  }

  f32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.parts.push(...b);
    return this;
  }

  str(s: string, claimedLength?: number | bigint): this {
    const bytes = Buffer.from(s, "utf8");
    this.u64(claimedLength ?? bytes.length);
    this.parts.push(...bytes);
    return this;
  }

  bytes(b: Iterable<number>): this {
    this.parts.push(...b);
    return this;
  }

  header(tensors: number | bigint, kvs: number | bigint, version = 3): this {
    return this.bytes(Buffer.from("GGUF")).u32(version).u64(tensors).u64(kvs);
  }

  /** A key with a uint32 value. */
  kvU32(key: string, v: number): this {
    return this.str(key).u32(4).u32(v);
  }

  kvStr(key: string, v: string): this {
    return this.str(key).u32(8).str(v);
  }

  tensor(name: string, dims: Array<number | bigint>, type: number, offset: number | bigint): this {
    this.str(name).u32(dims.length);
    for (const d of dims) this.u64(d);
    return this.u32(type).u64(offset);
  }

  padTo(alignment: number): this {
    while (this.parts.length % alignment !== 0) this.parts.push(0);
    return this;
  }

  get length(): number {
    return this.parts.length;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
