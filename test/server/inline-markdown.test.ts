// The web UI's inline Markdown: code, strong and emphasis become tokens (rendered as elements,
// never as HTML); links show their label; HTML in the text stays text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inlineMarkdown } from "../../web/src/inline-markdown.js";

test("inline Markdown becomes tokens; nothing is HTML", () => {
  assert.deepEqual(inlineMarkdown("Run `strata ingest` with **care** and *style* [1]."), [
    { kind: "text", text: "Run " },
    { kind: "code", text: "strata ingest" },
    { kind: "text", text: " with " },
    { kind: "strong", text: "care" },
    { kind: "text", text: " and " },
    { kind: "em", text: "style" },
    { kind: "text", text: " [1]." },
  ]);
  assert.deepEqual(inlineMarkdown("see [the guide](javascript:alert(1)) now"), [{ kind: "text", text: "see the guide now" }]);
  assert.deepEqual(inlineMarkdown("<img src=x onerror=alert(1)> and `<b>`"), [{ kind: "text", text: "<img src=x onerror=alert(1)> and " }, { kind: "code", text: "<b>" }]);
  assert.deepEqual(inlineMarkdown("2 * 3 * 4 and snake_case_name"), [{ kind: "text", text: "2 * 3 * 4 and snake_case_name" }]);
});
