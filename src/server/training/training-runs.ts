// The server's training runs: each a folder <data>/training/<id>/ holding the trainer's standard run
// directory (run.json, tokenizer.json, checkpoints/, loss.html), the corpus it trains on, the
// trainer's events.jsonl and the server's job.json. One trainer child process per running run, at
// most `slots` at a time (`strata serve --training-slots`; 0 turns training off); a run is visible to its owner and to admins only, and looks to
// anyone else exactly like one that does not exist.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import { latestStep } from "../../formats/checkpoint.js";
import { DEFAULT_TRAIN_SETTINGS, PRESETS } from "../../train/index.js";
import type { Caller } from "../accounts.js";
import type { ServerContext } from "../context.js";
import { ServerError } from "../errors.js";
import { CORPUS_FILE, writeCorpus } from "./corpus.js";
import { newRunId, readJob, RUN_ID_PATTERN, writeJob, type Job, type RequestedSettings, type RunError, type TrainingPreset } from "./job-file.js";
import { applyEvent, emptyProgress, etaSeconds, readProgress, type Progress, type ProgressEvent } from "./progress.js";
import { summaryOf, viewOf, type RunSummary, type RunView } from "./run-view.js";
import { blockSize, CONFIG_FILE, writeTrainerConfig } from "./trainer-config.js";
import { startTrainer, type TrainerExit, type TrainerProcess } from "./trainer-process.js";

/** A listener of one run's live events: `end` (with the final view) is the last. */
export type RunListener = (event: string, data: unknown) => void;

export interface StartRequest {
  kb: string;
  preset: TrainingPreset;
  settings: RequestedSettings;
}

interface LiveRun {
  job: Job;
  dir: string;
  progress: Progress;
  trainer: TrainerProcess;
  listeners: Set<RunListener>;
  /** Why the trainer was asked to stop: by its user, or because the server is closing. */
  stopReason: "user" | "shutdown" | null;
  done: Promise<void>;
}

export interface TrainingRunsOptions {
  /** Trainers at once (default 1: training takes every core); 0 turns training runs off. */
  slots?: number;
  /** How long stop and close wait for a trainer to save and exit (default 30 s). */
  stopWaitMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

const interruptedError = (id: string): RunError => ({
  code: "ABORTED",
  message: "the server stopped while this run was training; it ended at its last checkpoint",
  hint: `continue it with POST /api/training-runs/${id}/resume`,
});

/** Whether pid is a live trainer of this run (after a crash the old server's child may still run). */
function isTrainerOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(dir);
  } catch {
    return false;
  }
}

export class TrainingRuns {
  readonly root: string;
  private readonly live = new Map<string, LiveRun>();
  /** Progress of finished runs, read once from their events.jsonl. */
  private readonly finished = new Map<string, Progress>();
  private starting = 0;
  private readonly slots: number;
  private readonly stopWaitMs: number;

  constructor(
    private readonly ctx: ServerContext,
    private readonly log: FastifyBaseLogger,
    o: TrainingRunsOptions = {},
  ) {
    this.root = join(ctx.dataDir, "training");
    this.slots = o.slots ?? 1;
    this.stopWaitMs = o.stopWaitMs ?? 30_000;
    mkdirSync(this.root, { recursive: true });
    this.recover();
  }

  // ---------------------------------------------------------------- reading

  private dirOf(id: string): string {
    return join(this.root, id);
  }

  private visible(caller: Caller, job: Job): boolean {
    return job.owner === caller.user || caller.scopes.includes("admin");
  }

  /** The run if it exists and the caller may see it; NOT_FOUND either way otherwise. */
  private find(caller: Caller, id: string): { job: Job; dir: string; live?: LiveRun } {
    const live = this.live.get(id);
    let job = live?.job;
    if (!job && RUN_ID_PATTERN.test(id)) {
      try {
        job = readJob(this.dirOf(id));
      } catch {
        job = undefined;
      }
    }
    if (!job || !this.visible(caller, job)) throw new ServerError("NOT_FOUND", `there is no training run ${id.slice(0, 80)} that you may see`, "list yours with GET /api/training-runs");
    return { job, dir: this.dirOf(id), ...(live ? { live } : {}) };
  }

  private progressOf(job: Job, dir: string): Progress {
    const live = this.live.get(job.id);
    if (live) return live.progress;
    let p = this.finished.get(job.id);
    if (!p) {
      p = readProgress(dir, job.settings.steps);
      this.finished.set(job.id, p);
    }
    return p;
  }

  /** Runs with a readable job.json, whoever owns them. */
  private allJobs(): Job[] {
    const jobs: Job[] = [];
    for (const id of readdirSync(this.root)) {
      if (!RUN_ID_PATTERN.test(id)) continue;
      const live = this.live.get(id);
      if (live) {
        jobs.push(live.job);
        continue;
      }
      try {
        jobs.push(readJob(this.dirOf(id)));
      } catch (e) {
        this.log.warn({ err: e, run: id }, "training run skipped: its job.json cannot be read");
      }
    }
    return jobs;
  }

  /** The caller's runs (every run for admins), newest first. */
  list(caller: Caller): RunSummary[] {
    return this.allJobs()
      .filter((j) => this.visible(caller, j))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id))
      .map((j) => summaryOf(j, this.progressOf(j, this.dirOf(j.id)), this.live.get(j.id)?.stopReason != null));
  }

  async get(caller: Caller, id: string): Promise<RunView> {
    const { job, dir, live } = this.find(caller, id);
    return viewOf(job, dir, this.progressOf(job, dir), live?.stopReason != null);
  }

  /**
   * Follows a run: `listener` gets each event from now on, ending with `end`. Returns undefined for
   * a run that is not running (nothing will come); throws NOT_FOUND like get.
   */
  subscribe(caller: Caller, id: string, listener: RunListener): (() => void) | undefined {
    const { live } = this.find(caller, id);
    if (!live) return undefined;
    live.listeners.add(listener);
    return () => live.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- starting

  private checkEnabled(): void {
    if (this.slots === 0) {
      throw new ServerError("CONFLICT", "training runs are turned off on this server (strata serve --training-slots 0)", "ask the operator to restart the server with --training-slots 1 or more");
    }
  }

  private checkCapacity(): void {
    this.checkEnabled();
    if (this.live.size + this.starting >= this.slots) {
      throw new ServerError(
        "CONFLICT",
        this.slots === 1 ? "another training run is in progress on this server, which trains one run at a time" : `${this.slots} training runs are in progress, the most this server runs at once`,
        "wait until one ends, or stop your run with POST /api/training-runs/:id/stop, then start again; the operator sets how many train at once with strata serve --training-slots",
      );
    }
  }

  /** Starts a run on the text of the knowledge base's documents the caller may read. */
  async start(caller: Caller, req: StartRequest): Promise<RunView> {
    this.checkEnabled();
    if (!caller.scopes.includes("read")) {
      throw new ServerError("FORBIDDEN", "training reads the knowledge base's documents, and this key lacks the read scope", "use a key with both the read and ingest scopes");
    }
    const maxSeq = PRESETS[req.preset].model.maxSeq;
    const block = blockSize(req.preset, req.settings);
    if (block > maxSeq) throw new ServerError("USAGE", `invalid body: block: the ${req.preset} preset's model reads at most ${maxSeq} tokens, got ${block}`, `use a block of at most ${maxSeq}`);
    this.ctx.kbs.find(req.kb, caller); // a base the caller may not use is NOT_FOUND before anything else
    this.checkCapacity();
    this.starting++;
    const id = newRunId();
    const dir = this.dirOf(id);
    let launched = false;
    try {
      mkdirSync(dir);
      const corpus = await this.ctx.kbs.use(req.kb, caller, (kb) => writeCorpus(kb, caller.principal, join(dir, CORPUS_FILE)));
      this.checkLength(req.kb, corpus, block);
      writeTrainerConfig(join(dir, CONFIG_FILE), req.preset, req.settings);
      const now = new Date().toISOString();
      const job: Job = {
        format: "strata-training-job",
        version: 1,
        id,
        owner: caller.user,
        kb: req.kb,
        preset: req.preset,
        settings: req.settings,
        documents: corpus.documents,
        corpusBytes: corpus.bytes,
        status: "running",
        error: null,
        createdAt: now,
        startedAt: now,
        endedAt: null,
        pid: null,
      };
      writeJob(dir, job);
      const live = this.launch(job, dir, ["--data", join(dir, CORPUS_FILE), "--config", join(dir, CONFIG_FILE)], emptyProgress(req.settings.steps));
      launched = true;
      return await viewOf(live.job, dir, live.progress, false);
    } finally {
      this.starting--;
      if (!launched) rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Too little text fails the trainer later; say so now, while the caller is waiting. */
  private checkLength(kb: string, corpus: { documents: number; bytes: number }, block: number): void {
    // Each of the training and validation spans needs block + 1 tokens; the validation span is the
    // last valFraction of the stream; a token is at least one byte (exactly one for byte presets).
    const need = Math.ceil((block + 1) / DEFAULT_TRAIN_SETTINGS.valFraction);
    if (corpus.bytes >= need) return;
    throw new ServerError(
      "USAGE",
      `the documents you may read in knowledge base ${kb} hold too little text to train on: ${corpus.bytes} bytes in ${corpus.documents} document${corpus.documents === 1 ? "" : "s"}, and a block of ${block} tokens needs at least ${need}`,
      "add documents to the knowledge base, or ask for a smaller block (e.g. block: 16)",
    );
  }

  /** Resumes a stopped, interrupted or failed run from its latest checkpoint, to `steps` in all. */
  async resume(caller: Caller, id: string, steps: number | undefined): Promise<RunView> {
    const { job, dir, live } = this.find(caller, id);
    // Membership may have changed since the run started: a caller who may no longer use the base
    // gets the same NOT_FOUND as for a missing base, before anything is written.
    this.ctx.kbs.find(job.kb, caller);
    if (live) throw new ServerError("CONFLICT", `training run ${id} is running`, "wait for it to end, or stop it first");
    const at = await latestStep(dir).catch(() => null);
    if (at === null) throw new ServerError("CONFLICT", `training run ${id} has no checkpoint to resume from`, "start a new run");
    const target = steps ?? job.settings.steps;
    if (target <= at) throw new ServerError("USAGE", `invalid body: steps: training run ${id} is at step ${at} already, got ${target}`, `ask for more than ${at} steps`);
    this.checkCapacity();
    const resumed: Job = { ...job, settings: { ...job.settings, steps: target }, status: "running", error: null, startedAt: new Date().toISOString(), endedAt: null, pid: null };
    writeJob(dir, resumed);
    this.finished.delete(id);
    const run = this.launch(resumed, dir, ["--resume", "--steps", String(target)], readProgress(dir, target));
    return viewOf(run.job, dir, run.progress, false);
  }

  private launch(job: Job, dir: string, args: string[], progress: Progress): LiveRun {
    const run = { job, dir, progress, listeners: new Set<RunListener>(), stopReason: null } as Omit<LiveRun, "trainer" | "done"> as LiveRun;
    run.trainer = startTrainer(dir, args, (e) => this.onEvent(run, e), (err) => this.log.warn({ err, run: job.id }, "cannot read the trainer's events"));
    run.job = { ...job, pid: run.trainer.pid ?? null };
    this.saveJob(run);
    this.live.set(job.id, run);
    run.done = run.trainer.exited.then((exit) => this.onExit(run, exit)).catch((err: unknown) => this.log.error({ err, run: job.id }, "training run bookkeeping failed"));
    return run;
  }

  private saveJob(run: { job: Job; dir: string }): void {
    try {
      writeJob(run.dir, run.job);
    } catch (err) {
      this.log.error({ err, run: run.job.id }, "cannot write the training run's job.json");
    }
  }

  private broadcast(run: LiveRun, event: string, data: unknown): void {
    for (const l of [...run.listeners]) {
      try {
        l(event, data);
      } catch (err) {
        this.log.warn({ err, run: run.job.id }, "a training-run listener failed");
      }
    }
  }

  private onEvent(run: LiveRun, e: ProgressEvent): void {
    applyEvent(run.progress, e);
    const { type, ...data } = e;
    this.broadcast(run, type, type === "step" ? { ...data, etaSeconds: etaSeconds(run.progress) } : data);
  }

  private async onExit(run: LiveRun, exit: TrainerExit): Promise<void> {
    const { job } = run;
    let status: Job["status"];
    let error: RunError | null = null;
    if (exit.ok) status = "completed";
    else if (run.stopReason === "user") status = "stopped";
    else if (run.stopReason === "shutdown") {
      status = "interrupted";
      error = interruptedError(job.id);
    } else {
      status = "failed";
      error = exit.error ?? {
        code: "INTERNAL",
        message: `the trainer ended without a result (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})`,
        hint: "the server log has the end of its output; resume the run from its last checkpoint, or start a new one",
      };
      if (!exit.error) this.log.error({ run: job.id, code: exit.code, signal: exit.signal, stderr: exit.stderrTail }, "the trainer ended without a result");
    }
    run.job = { ...job, status, error, endedAt: new Date().toISOString(), pid: null };
    this.saveJob(run);
    this.live.delete(job.id);
    this.finished.set(job.id, run.progress);
    const view = await viewOf(run.job, run.dir, run.progress, false);
    this.broadcast(run, "end", view);
    run.listeners.clear();
  }

  // ---------------------------------------------------------------- stopping

  /** Asks the trainer to save a checkpoint and stop; waits (up to stopWaitMs) until it has. */
  async stop(caller: Caller, id: string): Promise<RunView> {
    const { job, live } = this.find(caller, id);
    if (!live) throw new ServerError("CONFLICT", `training run ${id} is not running (it is ${job.status})`, "only a running run can be stopped");
    live.stopReason ??= "user";
    live.trainer.interrupt();
    await Promise.race([live.done, sleep(this.stopWaitMs)]);
    return this.get(caller, id);
  }

  /** Deletes a run that is not running, with all its files. */
  remove(caller: Caller, id: string): void {
    const { dir, live } = this.find(caller, id);
    if (live) throw new ServerError("CONFLICT", `training run ${id} is running`, `stop it first with POST /api/training-runs/${id}/stop`);
    rmSync(dir, { recursive: true, force: true });
    this.finished.delete(id);
  }

  /** Server shutdown: every trainer saves a checkpoint and stops (killed after stopWaitMs); the runs become "interrupted". */
  async close(): Promise<void> {
    const runs = [...this.live.values()];
    for (const r of runs) {
      r.stopReason ??= "shutdown";
      r.trainer.interrupt();
    }
    const all = Promise.all(runs.map((r) => r.done));
    await Promise.race([all, sleep(this.stopWaitMs)]);
    for (const r of runs) r.trainer.kill();
    await all;
  }

  /** On start: runs the last server left "running" have no trainer any more; they become "interrupted". */
  private recover(): void {
    for (const job of this.allJobs()) {
      if (job.status !== "running") continue;
      const dir = this.dirOf(job.id);
      if (job.pid !== null && isTrainerOf(job.pid, dir)) {
        // The old server's child outlived it: let it save a checkpoint and stop, since nobody follows it.
        try {
          process.kill(job.pid, "SIGINT");
        } catch {
          // gone meanwhile
        }
      }
      this.saveJob({ dir, job: { ...job, status: "interrupted", error: interruptedError(job.id), endedAt: new Date().toISOString(), pid: null } });
    }
  }
}
