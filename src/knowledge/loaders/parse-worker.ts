// The parse pool's worker: loads one document (limits checked), cuts it into chunks to check the
// chunk limit, and posts the document back. It runs with a capped heap, so a file that still
// manages to blow up memory kills this worker, not the process that ingests or serves.
import { parentPort } from "node:worker_threads";
import { toStrataError } from "../../core/errors.js";
import { parseInline, type ParseJob } from "./parse-job.js";

parentPort?.on("message", (job: ParseJob & { id: number }) => {
  parseInline(job).then(
    (document) => parentPort?.postMessage({ id: job.id, document }),
    (e: unknown) => {
      const err = toStrataError(e, "PARSE_FAILED", "check the file opens in its own application");
      parentPort?.postMessage({ id: job.id, error: { code: err.code, message: err.message, hint: err.hint } });
    },
  );
});
