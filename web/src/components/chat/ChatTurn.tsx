import { ErrorNote } from "../common.tsx";
import { AnswerView } from "./AnswerView.tsx";
import type { OnCite } from "./CitationChip.tsx";
import type { Turn } from "./turn.ts";

/** One question and, beside it, its answer in whatever state it is: searching, streaming, done, stopped or failed. */
export function ChatTurn({ turn, opened, onCite }: { turn: Turn; opened: number | undefined; onCite: OnCite }) {
  return (
    <article className="turn" aria-label={`Question: ${turn.question}`} data-status={turn.status}>
      <div className="bubble question">
        <p className="who">You</p>
        <p className="pre">{turn.question}</p>
      </div>
      <div className="bubble answer" data-testid="answer">
        <p className="who">Strata</p>
        {turn.answer ? (
          <AnswerView answer={turn.answer} opened={opened} onCite={onCite} fromHistory={turn.fromHistory === true} />
        ) : turn.status === "streaming" ? (
          turn.streamed ? (
            <p className="pre streaming">
              {turn.streamed}
              <span className="caret" aria-hidden="true" />
            </p>
          ) : (
            <p className="muted" role="status">
              Searching the knowledge base…
            </p>
          )
        ) : turn.status === "stopped" ? (
          <>
            {turn.streamed ? <p className="pre">{turn.streamed}</p> : null}
            <p className="muted">Stopped.</p>
          </>
        ) : turn.error ? (
          <ErrorNote error={turn.error} title="No answer" />
        ) : null}
      </div>
    </article>
  );
}
