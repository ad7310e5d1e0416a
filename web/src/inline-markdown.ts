// Inline Markdown in answers and quotes, as tokens the UI renders with React elements: `code`,
// **strong**, *emphasis* / _emphasis_, and [label](url) shown as its label only. Nothing is ever
// passed through as HTML (React escapes every token's text), and block syntax is left as text.
export type InlineToken = { kind: "text" | "code" | "strong" | "em"; text: string };

// One alternation, leftmost first: code wins over emphasis inside it.
const INLINE = /`([^`\n]+)`|\*\*(?=\S)([^*\n]*?\S)\*\*|__(?=\S)([^_\n]*?\S)__|(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])|\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))+\)/g;

export function inlineMarkdown(text: string): InlineToken[] {
  const out: InlineToken[] = [];
  let last = 0;
  const push = (t: InlineToken): void => {
    if (t.text === "") return;
    const prev = out[out.length - 1];
    if (t.kind === "text" && prev?.kind === "text") prev.text += t.text;
    else out.push(t);
  };
  for (const m of text.matchAll(INLINE)) {
    push({ kind: "text", text: text.slice(last, m.index) });
    last = m.index + m[0].length;
    if (m[1] !== undefined) push({ kind: "code", text: m[1] });
    else if (m[2] !== undefined || m[3] !== undefined) push({ kind: "strong", text: (m[2] ?? m[3])! });
    else if (m[4] !== undefined || m[5] !== undefined) push({ kind: "em", text: (m[4] ?? m[5])! });
    else push({ kind: "text", text: m[6]! });
  }
  push({ kind: "text", text: text.slice(last) });
  return out;
}
