// One progress interface for every long operation: the CLI draws a bar from it, the server will
// stream it, tests read it.

export interface ProgressEvent {
  /** What is being done, e.g. "ingest", "embed", "eval". */
  phase: string;
  /** Units finished so far. */
  done: number;
  /** Units in all, when known. */
  total?: number;
  /** The unit just finished (a file path, a query id), for logs. */
  item?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export interface LongOperationOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}
