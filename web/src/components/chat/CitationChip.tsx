import type { Citation } from "../../api.ts";

/** Opens a citation's source; the trigger gets the focus back when the source closes. */
export type OnCite = (citation: Citation, trigger: HTMLElement | null) => void;

/** A [n] marker in the answer text, as a button that opens source n. */
export function CitationChip({ citation: c, pressed, onCite }: { citation: Citation; pressed: boolean; onCite: OnCite }) {
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
