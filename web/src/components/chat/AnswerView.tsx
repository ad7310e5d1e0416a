import type { Answer } from "../../api.ts";
import { renderInline } from "../InlineMarkdown.tsx";
import { TraceView } from "../TraceView.tsx";
import { AnswerText } from "./AnswerText.tsx";
import type { OnCite } from "./CitationChip.tsx";

/** A finished answer: its text, how it was made, the sentences its sources do not support, the sources and the trace. */
export function AnswerView({ answer, opened, onCite, fromHistory }: { answer: Answer; opened: number | undefined; onCite: OnCite; fromHistory: boolean }) {
  const unsupported = answer.sentences.filter((s) => !s.supported && !s.removed);
  const removed = answer.sentences.filter((s) => s.removed);
  return (
    <>
      <AnswerText answer={answer} opened={opened} onCite={onCite} />
      <p className="answer-meta small">
        {!answer.supported ? (
          <span className="badge warn">not found in the sources</span>
        ) : fromHistory ? (
          <span className="badge">earlier answer</span>
        ) : (
          <span className={`badge ${answer.mode}`}>{answer.mode === "extractive" ? "quoted from the sources" : `written by ${answer.model ?? "a model"}`}</span>
        )}
        {answer.usage ? (
          <span className="muted">
            {answer.usage.inputTokens + answer.usage.outputTokens} tokens{answer.usage.estimated ? " (estimated)" : ""}
            {answer.usage.costUsd !== undefined ? ` · $${answer.usage.costUsd.toFixed(4)}` : ""}
          </span>
        ) : null}
      </p>
      {unsupported.length > 0 ? (
        <div className="note note-warn">
          <p>
            <strong>
              {unsupported.length} of {answer.sentences.length} sentences are not supported by the sources they cite:
            </strong>
          </p>
          <ul>
            {unsupported.map((s, i) => (
              <li key={i}>
                “{s.text}” {s.reason ? <span className="muted">— {s.reason}</span> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {removed.length > 0 ? <p className="muted small">{removed.length} unsupported sentences were removed from the answer.</p> : null}
      {answer.citations.length > 0 ? (
        <details className="sources" open={answer.citations.length <= 3}>
          <summary>Sources ({answer.citations.length})</summary>
          <ol>
            {answer.citations.map((c) => (
              <li key={c.n}>
                <button type="button" className="link" onClick={(e) => onCite(c, e.currentTarget)} aria-label={`Open source ${c.n}: ${c.title || c.source}`}>
                  [{c.n}] {c.title || c.source}
                  {c.page != null ? ` · page ${c.page}` : ""}
                </button>
                <blockquote className="quote">{renderInline(c.quote, `q${c.n}`)}</blockquote>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      {answer.traceId ? <TraceView id={answer.traceId} /> : null}
    </>
  );
}
