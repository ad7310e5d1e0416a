import { useState } from "react";
import { enc } from "../api.ts";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";
import { ErrorNote, Loading } from "./common.tsx";

interface Span {
  name: string;
  startMs: number;
  ms: number;
  attributes?: Record<string, unknown>;
  usage?: { inputTokens: number; outputTokens: number; costUsd?: number };
  error?: string;
  children?: Span[];
}

interface Trace {
  id: string;
  kind: string;
  startedAt: string;
  ms: number;
  usage?: { inputTokens: number; outputTokens: number; costUsd?: number };
  spans: Span[];
}

/** How an answer was made (GET /api/traces/:id): each step's time and tokens, loaded when opened. */
export function TraceView({ id }: { id: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="trace" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>How this answer was made</summary>
      {open ? <TraceBody id={id} /> : null}
    </details>
  );
}

function TraceBody({ id }: { id: string }) {
  const { client } = useSession();
  const { data, error, loading } = useLoad((signal) => client.request<Trace>(`/api/traces/${enc(id)}`, { signal }), [id]);
  if (loading && !data) return <Loading what="the trace" />;
  if (error) return <ErrorNote error={error} title="The trace could not be loaded" />;
  if (!data) return null;
  return (
    <div className="trace-body">
      <p className="small muted">
        Trace <code>{data.id}</code> · {Math.round(data.ms)} ms
        {data.usage ? ` · ${data.usage.inputTokens} in / ${data.usage.outputTokens} out tokens` : ""}
      </p>
      <SpanList spans={data.spans ?? []} />
    </div>
  );
}

function SpanList({ spans }: { spans: Span[] }) {
  if (spans.length === 0) return null;
  return (
    <ul className="spans">
      {spans.map((s, i) => (
        <li key={i}>
          <span className="span-name">{s.name}</span> <span className="muted">{s.ms.toFixed(1)} ms</span>
          {s.usage ? <span className="muted"> · {s.usage.inputTokens + s.usage.outputTokens} tokens</span> : null}
          {s.error ? <span className="error-text"> · {s.error}</span> : null}
          <SpanList spans={s.children ?? []} />
        </li>
      ))}
    </ul>
  );
}
