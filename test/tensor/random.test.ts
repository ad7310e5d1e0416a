import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng, randn } from "../../src/tensor/index.js";

describe("Rng", () => {
  it("is deterministic per seed, and different seeds give different streams", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    const sb = Array.from({ length: 8 }, () => b.nextU32());
    const sc = Array.from({ length: 8 }, () => c.nextU32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
    assert.ok(sa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
    // seeds beyond 2^32 are not folded onto small ones
    assert.notEqual(new Rng(2 ** 32 + 5).nextU32(), new Rng(5).nextU32());
  });

  it("uniform lies in [0, 1) with mean ½; int(n) covers [0, n) evenly", () => {
    const r = new Rng(7);
    let s = 0;
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 50000; i++) {
      const u = r.uniform();
      assert.ok(u >= 0 && u < 1);
      s += u;
      counts[r.int(5)]!++;
    }
    assert.ok(Math.abs(s / 50000 - 0.5) < 0.01);
    for (const c of counts) assert.ok(Math.abs(c - 10000) < 400, `int(5) counts ${counts}`);
  });

  it("normal samples have the requested mean and standard deviation", () => {
    const t = randn([40000], new Rng(11), { mean: 2, std: 3 });
    const x = t.toArray();
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
    assert.ok(Math.abs(m - 2) < 0.05, `mean ${m}`);
    assert.ok(Math.abs(Math.sqrt(v) - 3) < 0.05, `std ${Math.sqrt(v)}`);
  });

  it("state() and setState() resume the exact stream, including a pending normal", () => {
    const r = new Rng(5);
    r.normal(); // leaves the second Box–Muller value pending
    const saved = JSON.parse(JSON.stringify(r.state())) as ReturnType<Rng["state"]>;
    const expected = [r.normal(), r.uniform(), r.nextU32()];
    const other = new Rng(999);
    other.setState(saved);
    assert.deepEqual([other.normal(), other.uniform(), other.nextU32()], expected);
  });

  it("shuffle is a seeded permutation; fork gives an independent stream", () => {
    const p = new Rng(3).shuffle([0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(new Rng(3).shuffle([0, 1, 2, 3, 4, 5, 6, 7]), p);
    const r = new Rng(1);
    const f = r.fork();
    assert.notEqual(f.nextU32(), r.nextU32());
  });
});
