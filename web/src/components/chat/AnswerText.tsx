import type { ReactNode } from "react";
import type { Answer } from "../../api.ts";
import { renderInline } from "../InlineMarkdown.tsx";
import { CitationChip, type OnCite } from "./CitationChip.tsx";

const MARKERS = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;

/** The answer text with each [n] as a button that opens source n, inline Markdown rendered, and unsupported sentences marked. */
export function AnswerText({ answer, opened, onCite }: { answer: Answer; opened: number | undefined; onCite: OnCite }) {
  const byN = new Map(answer.citations.map((c) => [c.n, c]));
  let key = 0;
  const withChips = (text: string): ReactNode[] => {
    const out: ReactNode[] = [];
    let last = 0;
    for (const m of text.matchAll(MARKERS)) {
      out.push(...renderInline(text.slice(last, m.index), `t${key++}`));
      last = m.index + m[0].length;
      for (const n of m[1]!.split(/[,;]/).map((x) => Number(x.trim()))) {
        const c = byN.get(n);
        out.push(c ? <CitationChip key={`c${key++}`} citation={c} pressed={opened === n} onCite={onCite} /> : <span key={`u${key++}`} className="chip-missing">[{n}]</span>);
      }
    }
    out.push(...renderInline(text.slice(last), `t${key++}`));
    return out;
  };
  // Where the sentences the sources do not support are in the text (in order, as the server split them).
  const flagged: { start: number; end: number; reason: string }[] = [];
  let from = 0;
  for (const s of answer.sentences) {
    if (s.removed) continue;
    const at = answer.answer.indexOf(s.text, from);
    if (at < 0) continue;
    from = at + s.text.length;
    if (!s.supported) flagged.push({ start: at, end: from, reason: s.reason ?? "not supported by the cited source" });
  }
  const out: ReactNode[] = [];
  let pos = 0;
  for (const f of flagged) {
    out.push(...withChips(answer.answer.slice(pos, f.start)));
    out.push(
      <span key={`f${key++}`} className="unsupported" title={f.reason}>
        {withChips(answer.answer.slice(f.start, f.end))}
        <span className="visually-hidden"> (not supported: {f.reason})</span>
      </span>,
    );
    pos = f.end;
  }
  out.push(...withChips(answer.answer.slice(pos)));
  return <p className="pre answer-text">{out}</p>;
}
