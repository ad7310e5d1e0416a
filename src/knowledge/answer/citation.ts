// The citation as it crosses a boundary (the HTTP API, stored conversations, the MCP server): one
// zod schema, held to the `AnswerCitation` type of ./types.ts by `satisfies`, so a field added to
// one and not the other fails the build rather than drifting.
import { z } from "zod";
import type { AnswerCitation } from "./types.js";

export const citationSchema = z.object({
  n: z.number(),
  docId: z.string(),
  source: z.string(),
  title: z.string(),
  chunkId: z.string(),
  page: z.number().nullable(),
  start: z.number().describe("span in the document's text: text.slice(start, end) === quote"),
  end: z.number(),
  quote: z.string(),
  score: z.number(),
}) satisfies z.ZodType<AnswerCitation>;
