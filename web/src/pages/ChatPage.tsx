import { useEffect, useId, useRef, useState } from "react";
import type { Citation, KbSummary } from "../api.ts";
import { ChatComposer } from "../components/chat/ChatComposer.tsx";
import { ChatTurn } from "../components/chat/ChatTurn.tsx";
import { ConversationList } from "../components/chat/ConversationList.tsx";
import { useAskStream } from "../components/chat/useAskStream.ts";
import type { Turn } from "../components/chat/turn.ts";
import { CitedDocument } from "../components/CitedDocument.tsx";
import { ErrorNote, Loading, PageTitle } from "../components/common.tsx";
import { useLoad } from "../hooks.ts";
import { href } from "../route.ts";
import { pref, useSession } from "../session.ts";

/** The source open beside the chat, and the chip that opened it (the focus goes back there). */
interface Opened {
  kb: string;
  turnId: number;
  citation: Citation;
  trigger: HTMLElement | null;
}

/** The chat page: pick a knowledge base, ask it questions, read each answer's cited sources beside it. */
export function ChatPage() {
  const { client } = useSession();
  const kbs = useLoad((signal) => client.request<KbSummary[]>("/api/kbs", { signal }), [client]);
  const [kb, setKb] = useState<string | undefined>(() => pref("kb"));
  const chat = useAskStream(client);
  const { turns } = chat;
  const [opened, setOpened] = useState<Opened | undefined>();
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const endRef = useRef<HTMLDivElement>(null);
  const kbId = useId();

  // Pick a knowledge base the user can see: the last one used, else the first.
  const list = kbs.data;
  useEffect(() => {
    if (!list) return;
    if (list.length === 0) setKb(undefined);
    else if (!kb || !list.some((k) => k.name === kb)) setKb(list[0]!.name);
  }, [list, kb]);

  const lastStreamed = turns.at(-1)?.streamed;
  const lastStatus = turns.at(-1)?.status;
  useEffect(() => {
    // Not on an empty chat: Chromium moves the Tab starting point to what scrollIntoView reveals,
    // so a fresh page's first Tab would skip the skip link and land in the question box.
    if (turns.length === 0) return;
    endRef.current?.scrollIntoView({ block: "nearest" });
  }, [turns.length, lastStreamed, lastStatus]);

  const newConversation = (): void => {
    chat.clear();
    setOpened(undefined);
    inputRef.current?.focus();
  };

  const open = (turn: Turn, citation: Citation, trigger: HTMLElement | null): void => {
    setOpened({ kb: turn.kb, turnId: turn.id, citation, trigger });
  };
  const close = (): void => {
    const trigger = opened?.trigger;
    setOpened(undefined);
    // Back to the chip that opened it, so keyboard users continue where they were.
    requestAnimationFrame(() => trigger?.focus());
  };

  return (
    <div className={`chat-layout${opened ? " with-doc" : ""}`}>
      <section className="chat" aria-labelledby="chat-title">
        <PageTitle>
          <span id="chat-title">Chat</span>
        </PageTitle>
        {kbs.error ? <ErrorNote error={kbs.error} title="Knowledge bases could not be listed" /> : null}
        {kbs.loading && !list ? <Loading what="knowledge bases" /> : null}
        {list && list.length === 0 ? (
          <div className="note">
            <p>
              You can read no knowledge base yet. <a href={href({ page: "kbs" })}>Knowledge bases</a> lists them; an admin can create one and add you.
            </p>
          </div>
        ) : null}
        {list && list.length === 0 ? null : (
        <div className="toolbar">
          <div className="field inline">
            <label htmlFor={kbId}>Knowledge base</label>
            <select
              id={kbId}
              value={kb ?? ""}
              disabled={!list || list.length === 0}
              onChange={(e) => {
                setKb(e.target.value);
                pref("kb", e.target.value);
                newConversation();
              }}
            >
              {(list ?? []).map((k) => (
                <option key={k.name} value={k.name}>
                  {k.name} ({k.documents} {k.documents === 1 ? "document" : "documents"})
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="button ghost" onClick={newConversation} disabled={turns.length === 0}>
            New conversation
          </button>
          <ConversationList
            onPick={(c) => {
              setOpened(undefined);
              if (c.kb) setKb(c.kb);
              chat.resume(c.id, c.turns.map((t) => ({ ...t, kb: c.kb ?? kb ?? "" })));
            }}
          />
        </div>
        )}

        <div className="messages" role="log" aria-live="polite" aria-relevant="additions text" aria-label="Conversation" data-testid="messages">
          {turns.length === 0 && !(list && list.length === 0) ? (
            <p className="empty muted">
              Ask a question about {kb ? <strong>{kb}</strong> : "a knowledge base"}. Every sentence of the answer cites its source: select a number to read the quoted passage in its document.
            </p>
          ) : null}
          {turns.map((t) => (
            <ChatTurn key={t.id} turn={t} opened={opened?.turnId === t.id ? opened.citation.n : undefined} onCite={(c, el) => open(t, c, el)} />
          ))}
          <div ref={endRef} />
        </div>

        <ChatComposer kb={kb} busy={chat.busy} inputRef={inputRef} onAsk={(question, model) => chat.ask(kb, question, model)} onStop={chat.stop} />
      </section>
      {opened ? <CitedDocument kb={opened.kb} citation={opened.citation} onClose={close} /> : null}
    </div>
  );
}
