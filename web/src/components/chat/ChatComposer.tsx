import { useId, useState, type FormEvent, type KeyboardEvent, type RefObject } from "react";
import { pref } from "../../session.ts";
import { AnswerOptions } from "./AnswerOptions.tsx";

/** Where the question is written: Enter sends it, Stop ends an answer that is streaming. */
export function ChatComposer({
  kb,
  busy,
  inputRef,
  onAsk,
  onStop,
}: {
  kb: string | undefined;
  busy: boolean;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  /** Sends the question; false when it was not sent (the text then stays). */
  onAsk: (question: string, model: string) => boolean;
  onStop: () => void;
}) {
  const [question, setQuestion] = useState("");
  const [model, setModel] = useState(() => pref("model") ?? "");
  const questionId = useId();

  const ask = (e?: FormEvent): void => {
    e?.preventDefault();
    if (onAsk(question, model)) setQuestion("");
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      ask();
    }
  };

  return (
    <form className="composer" onSubmit={ask} aria-label="Ask a question">
      <label htmlFor={questionId} className="visually-hidden">
        Your question
      </label>
      <textarea
        id={questionId}
        ref={inputRef}
        rows={2}
        value={question}
        placeholder={kb ? `Ask ${kb} a question…` : "Choose a knowledge base first"}
        onChange={(e) => setQuestion(e.target.value)}
        onKeyDown={onKeyDown}
        disabled={!kb}
        aria-describedby={`${questionId}-help`}
      />
      <div className="composer-actions">
        <p id={`${questionId}-help`} className="muted small">
          Enter sends, Shift+Enter starts a new line.
        </p>
        {busy ? (
          <button type="button" className="button" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" className="button primary" disabled={!kb || !question.trim()}>
            Ask
          </button>
        )}
      </div>
      <AnswerOptions
        model={model}
        onModelChange={(m) => {
          setModel(m);
          pref("model", m);
        }}
      />
    </form>
  );
}
