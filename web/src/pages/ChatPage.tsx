import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { ApiError, enc, type Answer, type Citation, type KbSummary } from "../api.ts";
import { CitedDocument } from "../components/CitedDocument.tsx";
import { ErrorNote, Loading, PageTitle } from "../components/common.tsx";
import { TraceView } from "../components/TraceView.tsx";
import { useLoad } from "../hooks.ts";
import { href } from "../route.ts";
import { pref, useSession } from "../session.ts";

interface Turn {
  id: number;
  kb: string;
  question: string;
  /** Text received so far from `delta` events. */
  streamed: string;
  status: "streaming" | "done" | "error" | "stopped";
  answer?: Answer;
  error?: unknown;
  /** Read back from an earlier conversation: how it was answered (mode, usage) is not known. */
  fromHistory?: boolean;
}

interface Opened {
  kb: string;
  turnId: number;
  citation: Citation;
  trigger: HTMLElement | null;
}

let nextTurnId = 1;

export function ChatPage() {
  const { client } = useSession();
  const kbs = useLoad((signal) => client.request<KbSummary[]>("/api/kbs", { signal }), [client]);
  const [kb, setKb] = useState<string | undefined>(() => pref("kb"));
  const [turns, setTurns] = useState<Turn[]>([]);
  const [conversationId, setConversationId] = useState<string | undefined>();
  const [question, setQuestion] = useState("");
  const [model, setModel] = useState(() => pref("model") ?? "");
  const [opened, setOpened] = useState<Opened | undefined>();
  const abortRef = useRef<AbortController | undefined>(undefined);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const endRef = useRef<HTMLDivElement>(null);
  const busy = turns.some((t) => t.status === "streaming");
  const questionId = useId();
  const kbId = useId();
  const modelId = useId();

  // Pick a knowledge base the user can see: the last one used, else the first.
  const list = kbs.data;
  useEffect(() => {
    if (!list) return;
    if (list.length === 0) setKb(undefined);
    else if (!kb || !list.some((k) => k.name === kb)) setKb(list[0]!.name);
  }, [list, kb]);

  useEffect(() => () => abortRef.current?.abort(), []);

  const lastStreamed = turns.at(-1)?.streamed;
  const lastStatus = turns.at(-1)?.status;
  useEffect(() => {
    // Not on an empty chat: Chromium moves the Tab starting point to what scrollIntoView reveals,
    // so a fresh page's first Tab would skip the skip link and land in the question box.
    if (turns.length === 0) return;
    endRef.current?.scrollIntoView({ block: "nearest" });
  }, [turns.length, lastStreamed, lastStatus]);

  const update = (id: number, patch: Partial<Turn> | ((t: Turn) => Partial<Turn>)): void =>
    setTurns((ts) => ts.map((t) => (t.id === id ? { ...t, ...(typeof patch === "function" ? patch(t) : patch) } : t)));

  const newConversation = (): void => {
    abortRef.current?.abort();
    setTurns([]);
    setConversationId(undefined);
    setOpened(undefined);
    inputRef.current?.focus();
  };

  const ask = async (e?: FormEvent): Promise<void> => {
    e?.preventDefault();
    const q = question.trim();
    if (!q || !kb || busy) return;
    const id = nextTurnId++;
    setTurns((ts) => [...ts, { id, kb, question: q, streamed: "", status: "streaming" }]);
    setQuestion("");
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    const body: Record<string, string> = { question: q };
    if (model.trim()) body.model = model.trim();
    if (conversationId) body.conversationId = conversationId;
    try {
      let finished = false;
      await client.stream(
        `/api/kbs/${enc(kb)}/ask`,
        body,
        (event, data) => {
          if (event === "delta") {
            const text = (data as { text?: string }).text ?? "";
            update(id, (t) => ({ streamed: t.streamed + text }));
          } else if (event === "answer" || event === "fallback") {
            const a = data as Answer;
            finished = true;
            update(id, { answer: a, status: "done" });
            if (a.conversationId) setConversationId(a.conversationId);
          } else if (event === "error") {
            const d = data as { code?: string; message?: string; hint?: string };
            finished = true;
            update(id, { status: "error", error: new ApiError(500, d.code ?? "ERROR", d.message ?? "the answer failed", d.hint) });
          }
        },
        ctrl.signal,
      );
      if (!finished) update(id, { status: "error", error: new Error("the server closed the stream before the answer was complete") });
    } catch (err) {
      if (ctrl.signal.aborted) update(id, { status: "stopped" });
      else update(id, { status: "error", error: err });
    } finally {
      if (abortRef.current === ctrl) abortRef.current = undefined;
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void ask();
    }
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
          <ConversationPicker
            onPick={(c) => {
              abortRef.current?.abort();
              setOpened(undefined);
              if (c.kb) setKb(c.kb);
              setConversationId(c.id);
              setTurns(c.turns.map((t) => ({ ...t, id: nextTurnId++, kb: c.kb ?? kb ?? "" })));
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
            <TurnView key={t.id} turn={t} opened={opened?.turnId === t.id ? opened.citation.n : undefined} onCite={(c, el) => open(t, c, el)} />
          ))}
          <div ref={endRef} />
        </div>

        <form className="composer" onSubmit={(e) => void ask(e)} aria-label="Ask a question">
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
              <button type="button" className="button" onClick={() => abortRef.current?.abort()}>
                Stop
              </button>
            ) : (
              <button type="submit" className="button primary" disabled={!kb || !question.trim()}>
                Ask
              </button>
            )}
          </div>
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
                onChange={(e) => {
                  setModel(e.target.value);
                  pref("model", e.target.value);
                }}
                aria-describedby={`${modelId}-help`}
              />
              <ModelSuggestions id={`${modelId}-list`} />
              <p id={`${modelId}-help`} className="muted small">
                One of the server's models (GET /v1/models). Empty: the server's default model, or — when it has none — an answer quoted word for word from the sources.
              </p>
            </div>
          </details>
        </form>
      </section>
      {opened ? <CitedDocument kb={opened.kb} citation={opened.citation} onClose={close} /> : null}
    </div>
  );
}

function TurnView({ turn, opened, onCite }: { turn: Turn; opened: number | undefined; onCite: (c: Citation, el: HTMLElement | null) => void }) {
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

const MARKERS = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;

/** The answer text with each [n] as a button that opens source n, and unsupported sentences marked. */
function AnswerText({ answer, opened, onCite }: { answer: Answer; opened: number | undefined; onCite: (c: Citation, el: HTMLElement | null) => void }) {
  const byN = new Map(answer.citations.map((c) => [c.n, c]));
  let key = 0;
  const withChips = (text: string): ReactNode[] => {
    const out: ReactNode[] = [];
    let last = 0;
    for (const m of text.matchAll(MARKERS)) {
      out.push(text.slice(last, m.index));
      last = m.index + m[0].length;
      for (const n of m[1]!.split(/[,;]/).map((x) => Number(x.trim()))) {
        const c = byN.get(n);
        out.push(c ? <CitationChip key={`c${key++}`} citation={c} pressed={opened === n} onCite={onCite} /> : <span key={`u${key++}`} className="chip-missing">[{n}]</span>);
      }
    }
    out.push(text.slice(last));
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

function CitationChip({ citation: c, pressed, onCite }: { citation: Citation; pressed: boolean; onCite: (c: Citation, el: HTMLElement | null) => void }) {
  return (
    <button
      type="button"
      className="chip"
      data-citation={c.n}
      aria-pressed={pressed}
      aria-label={`Source ${c.n}: ${c.title || c.source}${c.page != null ? `, page ${c.page}` : ""}`}
      title={`${c.title || c.source}${c.page != null ? ` — page ${c.page}` : ""}`}
      onClick={(e) => onCite(c, e.currentTarget)}
    >
      {c.n}
    </button>
  );
}

function AnswerView({ answer, opened, onCite, fromHistory }: { answer: Answer; opened: number | undefined; onCite: (c: Citation, el: HTMLElement | null) => void; fromHistory: boolean }) {
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
                <blockquote className="quote">{c.quote}</blockquote>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      {answer.traceId ? <TraceView id={answer.traceId} /> : null}
    </>
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

interface PickedConversation {
  id: string;
  kb?: string;
  turns: Omit<Turn, "id" | "kb">[];
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
 * Earlier conversations (GET /api/conversations). Read leniently: the list may be an array or
 * {conversations: [...]}; a conversation's turns {question, answer, citations} or its messages.
 */
function ConversationPicker({ onPick }: { onPick: (c: PickedConversation) => void }) {
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
      onPick({ id: item.id, ...(item.kb ?? (raw.kb as string | undefined) ? { kb: item.kb ?? (raw.kb as string) } : {}), turns: turnsFrom(raw) });
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

function turnsFrom(raw: Record<string, unknown>): PickedConversation["turns"] {
  type Msg = { role?: string; content?: string; citations?: Citation[]; supported?: boolean; mode?: string; traceId?: string; model?: string };
  const mk = (question: string, answerText: string, citations: Citation[], supported: boolean | null | undefined, extra: { traceId?: string | null; mode?: string; model?: string }) => ({
    question,
    streamed: "",
    status: "done" as const,
    fromHistory: extra.mode !== "extractive" && extra.mode !== "generative",
    answer: {
      answer: answerText,
      mode: extra.mode === "generative" ? ("generative" as const) : ("extractive" as const),
      supported: supported ?? true,
      citations,
      sentences: [],
      ...(extra.traceId ? { traceId: extra.traceId } : {}),
      ...(extra.model ? { model: extra.model } : {}),
    },
  });
  const messages = raw.messages as Msg[] | undefined;
  if (Array.isArray(messages)) {
    const out: PickedConversation["turns"] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.role !== "user") continue;
      const r = messages[i + 1]?.role === "assistant" ? messages[i + 1] : undefined;
      out.push(mk(m.content ?? "", r?.content ?? "", r?.citations ?? [], r?.supported, { traceId: r?.traceId, mode: r?.mode, model: r?.model }));
    }
    return out;
  }
  const turns = raw.turns as { question?: string; answer?: string; citations?: Citation[]; supported?: boolean | null; traceId?: string | null }[] | undefined;
  return Array.isArray(turns) ? turns.map((t) => mk(t.question ?? "", t.answer ?? "", t.citations ?? [], t.supported, { traceId: t.traceId })) : [];
}
