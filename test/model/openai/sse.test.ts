import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readSse, SseParser, type SseEvent } from "../../../src/model/providers/openai/sse.js";

function parseInPieces(text: string, size: number): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
  out.push(...p.end());
  return out;
}

async function* bytes(buf: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe("SseParser", () => {
  const stream = 'data: {"a":1}\n\n: keep-alive comment\n\nevent: error\ndata: line one\ndata: line two\n\ndata:no-space\r\n\r\ndata: [DONE]\n\n';
  const expected: SseEvent[] = [{ data: '{"a":1}' }, { event: "error", data: "line one\nline two" }, { data: "no-space" }, { data: "[DONE]" }];

  it("yields whole events, joins multi-line data, skips comments, keeps event names", () => {
    assert.deepEqual(parseInPieces(stream, stream.length), expected);
  });

  it("gives the same events whatever the chunk size (boundaries inside lines and inside \\r\\n)", () => {
    for (const size of [1, 2, 3, 5, 7, 13]) assert.deepEqual(parseInPieces(stream, size), expected, `chunk size ${size}`);
  });

  it("handles lone \\r line endings, even when a chunk ends on one", () => {
    assert.deepEqual(parseInPieces("data: a\r\rdata: b\r\r", 1), [{ data: "a" }, { data: "b" }]);
  });

  it("flushes a last event that lacks its closing blank line", () => {
    assert.deepEqual(parseInPieces("data: x\n\ndata: [DONE]", 4), [{ data: "x" }, { data: "[DONE]" }]);
    assert.deepEqual(parseInPieces("data: [DONE]\n", 100), [{ data: "[DONE]" }]);
  });

  it("ignores blank lines without data and unknown fields", () => {
    assert.deepEqual(parseInPieces("\n\nid: 5\nretry: 10\n\nfoo: bar\ndata: y\n\n", 3), [{ data: "y" }]);
  });
});

describe("readSse", () => {
  it("decodes UTF-8 characters split across byte chunks", async () => {
    const text = 'data: {"t":"héllo 😀 wörld"}\n\ndata: [DONE]\n\n';
    const buf = new TextEncoder().encode(text);
    for (const size of [1, 2, 3]) {
      const events: SseEvent[] = [];
      for await (const e of readSse(bytes(buf, size))) events.push(e);
      assert.deepEqual(events, [{ data: '{"t":"héllo 😀 wörld"}' }, { data: "[DONE]" }], `chunk size ${size}`);
    }
  });
});
