import type { ReactNode } from "react";
import { inlineMarkdown } from "../inline-markdown.ts";

/** Text with its inline Markdown rendered as elements (never as HTML). */
export function renderInline(text: string, keyPrefix: string): ReactNode[] {
  return inlineMarkdown(text).map((t, i) => {
    const key = `${keyPrefix}-${i}`;
    if (t.kind === "code") return <code key={key}>{t.text}</code>;
    if (t.kind === "strong") return <strong key={key}>{t.text}</strong>;
    if (t.kind === "em") return <em key={key}>{t.text}</em>;
    return <span key={key}>{t.text}</span>;
  });
}
