import type { Answer } from "../../api.ts";

/** One question and its answer as the chat shows it: streaming, finished, stopped or failed. */
export interface Turn {
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

/** A turn read back from an earlier conversation, before the chat gives it an id and a knowledge base. */
export type StoredTurn = Omit<Turn, "id" | "kb">;
