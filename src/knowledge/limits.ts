// Input limits of the knowledge layer, checked before any work so that a huge or empty query
// gets a clear error instead of a slow or meaningless search.
import { StrataError } from "../core/errors.js";

export const MAX_QUERY_CHARS = 4000;

/** Trims a query or question and checks it is non-empty and not over the limit. */
export function checkQuery(query: string, what: "query" | "question" = "query", max = MAX_QUERY_CHARS): string {
  const q = query.trim();
  if (q.length === 0) throw new StrataError("EMPTY_QUESTION", `the ${what} is empty`, `pass the ${what} as a quoted argument, e.g. "how do I …"`);
  if (q.length > max) {
    throw new StrataError("QUESTION_TOO_LONG", `the ${what} has ${q.length.toLocaleString("en")} characters; the limit is ${max.toLocaleString("en")}`, `shorten the ${what} to its key words`);
  }
  return q;
}
