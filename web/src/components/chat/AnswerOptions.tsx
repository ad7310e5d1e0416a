import { useId } from "react";
import { useLoad } from "../../hooks.ts";
import { useSession } from "../../session.ts";

/** The composer's "Answer options": which language model writes the answer. */
export function AnswerOptions({ model, onModelChange }: { model: string; onModelChange: (model: string) => void }) {
  const modelId = useId();
  return (
    <details className="options">
      <summary>Answer options</summary>
      <div className="field">
        <label htmlFor={modelId}>Language model (optional)</label>
        <input
          id={modelId}
          value={model}
          list={`${modelId}-list`}
          autoComplete="off"
          placeholder="the server's default"
          onChange={(e) => onModelChange(e.target.value)}
          aria-describedby={`${modelId}-help`}
        />
        <ModelSuggestions id={`${modelId}-list`} />
        <p id={`${modelId}-help`} className="muted small">
          One of the server's models (GET /v1/models). Empty: the server's default model, or — when it has none — an answer quoted word for word from the sources.
        </p>
      </div>
    </details>
  );
}

/** The served model ids, offered as suggestions (knowledge-base ids strata-rag/… left out). */
function ModelSuggestions({ id }: { id: string }) {
  const { client } = useSession();
  const models = useLoad(async (signal) => {
    const r = await client.request<{ data?: { id: string }[] }>("/v1/models", { signal });
    return (r.data ?? []).map((m) => m.id).filter((m) => !m.startsWith("strata-rag/"));
  }, [client]);
  return (
    <datalist id={id}>
      {(models.data ?? []).map((m) => (
        <option key={m} value={m} />
      ))}
    </datalist>
  );
}
