import { useEffect, useRef, type ReactNode } from "react";
import { ApiError } from "../api.ts";

/** An error in words, with the server's hint, announced to screen readers. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  const e = error instanceof Error ? error : new Error(String(error));
  const hint = e instanceof ApiError ? e.hint : undefined;
  const code = e instanceof ApiError ? e.code : undefined;
  return (
    <div className="note note-error" role="alert">
      <p>
        <strong>{title ?? "Something went wrong"}:</strong> {e.message}
        {code ? <span className="code-badge">{code}</span> : null}
      </p>
      {hint ? <p className="hint">Hint: {hint}</p> : null}
    </div>
  );
}

/** The page's main heading; takes focus when the page opens so keyboard and reader users land on it. */
export function PageTitle({ children, sub }: { children: ReactNode; sub?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Only after navigation inside the app, not on first load (where the skip link comes first).
    if (document.activeElement && document.activeElement !== document.body) ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <div className="page-title">
      <h1 tabIndex={-1} ref={ref}>
        {children}
      </h1>
      {sub ? <p className="muted">{sub}</p> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted loading" role="status">
      Loading {what}…
    </p>
  );
}

export function formatDate(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
