import { useState } from "react";
import { enc } from "../../api.ts";
import { useLoad } from "../../hooks.ts";
import { useSession } from "../../session.ts";
import { ErrorNote, Loading } from "../common.tsx";
import { storedTurns } from "./storedTurns.ts";
import type { StoredTurn } from "./turn.ts";

export interface PickedConversation {
  id: string;
  kb?: string;
  turns: StoredTurn[];
}

interface ConversationListItem {
  id: string;
  kb?: string;
  title?: string;
  firstQuestion?: string;
  updatedAt?: string;
  messages?: number;
}

/**
 * Earlier conversations (GET /api/conversations), listed when opened; picking one reads it back.
 * Read leniently: the list may be an array or {conversations: [...]}.
 */
export function ConversationList({ onPick }: { onPick: (c: PickedConversation) => void }) {
  const { client } = useSession();
  const [openState, setOpenState] = useState(false);
  const list = useLoad(
    async (signal) => {
      if (!openState) return [] as ConversationListItem[];
      const raw = await client.request<unknown>("/api/conversations", { signal });
      const arr = Array.isArray(raw) ? raw : ((raw as { conversations?: unknown[] }).conversations ?? []);
      return arr.filter((x): x is ConversationListItem => typeof (x as ConversationListItem)?.id === "string");
    },
    [openState, client],
  );
  const [error, setError] = useState<unknown>();
  const pick = async (item: ConversationListItem): Promise<void> => {
    setError(undefined);
    try {
      const raw = await client.request<Record<string, unknown>>(`/api/conversations/${enc(item.id)}`);
      onPick({ id: item.id, ...(item.kb ?? (raw.kb as string | undefined) ? { kb: item.kb ?? (raw.kb as string) } : {}), turns: storedTurns(raw) });
      setOpenState(false);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <details
      className="history"
      open={openState}
      onToggle={(e) => setOpenState((e.currentTarget as HTMLDetailsElement).open)}
      onKeyDown={(e) => {
        if (e.key === "Escape" && openState) {
          e.stopPropagation();
          setOpenState(false);
          e.currentTarget.querySelector("summary")?.focus();
        }
      }}
    >
      <summary>Earlier conversations</summary>
      <div className="history-list">
        {list.loading && openState ? <Loading what="conversations" /> : null}
        {list.error ? <ErrorNote error={list.error} title="Conversations could not be listed" /> : null}
        {error ? <ErrorNote error={error} title="The conversation could not be opened" /> : null}
        {list.data && list.data.length === 0 && !list.loading ? <p className="muted small">None yet.</p> : null}
        <ul>
          {(list.data ?? []).map((c) => (
            <li key={c.id}>
              <button type="button" className="link" onClick={() => void pick(c)}>
                {c.title ?? c.firstQuestion ?? c.id}
              </button>
              <span className="muted small">
                {" "}
                {c.kb ? `${c.kb} · ` : ""}
                {c.messages !== undefined ? `${c.messages} messages` : ""}
              </span>
            </li>
          ))}
        </ul>
      </div>
    </details>
  );
}
