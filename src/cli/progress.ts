// Progress for long commands: a bar with rate and ETA on a terminal, plain lines (a few per
// minute) in CI and pipes, always on stderr so --json stdout stays clean.
import cliProgress from "cli-progress";
import type { ProgressEvent, ProgressListener } from "../core/events.js";

const PLAIN_EVERY_MS = 5000;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

export interface ProgressDisplay {
  listener: ProgressListener;
  stop(): void;
}

export function progressDisplay(opts: { quiet?: boolean } = {}): ProgressDisplay {
  if (opts.quiet) return { listener: () => {}, stop: () => {} };
  const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
  const started = new Map<string, number>();
  if (interactive) {
    const bars = new Map<string, cliProgress.SingleBar>();
    return {
      listener: (e: ProgressEvent) => {
        let bar = bars.get(e.phase);
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { format: `${e.phase.padEnd(7)} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.total ?? 0, 0, { rate: "0" });
          bars.set(e.phase, bar);
          started.set(e.phase, performance.now());
        }
        const secs = (performance.now() - (started.get(e.phase) ?? 0)) / 1000;
        bar.setTotal(e.total ?? e.done);
        bar.update(e.done, { rate: (e.done / Math.max(secs, 1e-3)).toFixed(1) });
      },
      stop: () => {
        for (const b of bars.values()) b.stop();
      },
    };
  }
  let lastLine = 0;
  return {
    listener: (e: ProgressEvent) => {
      const now = performance.now();
      if (!started.has(e.phase)) started.set(e.phase, now);
      const finished = e.total !== undefined && e.done >= e.total;
      if (!finished && now - lastLine < PLAIN_EVERY_MS) return;
      lastLine = now;
      const secs = (now - started.get(e.phase)!) / 1000;
      const rate = e.done / Math.max(secs, 1e-3);
      const pct = e.total ? ` (${Math.floor((100 * e.done) / e.total)}%)` : "";
      const eta = e.total ? `, eta ${formatDuration((e.total - e.done) / Math.max(rate, 1e-9))}` : "";
      process.stderr.write(`${e.phase}: ${e.done}${e.total ? `/${e.total}` : ""}${pct}, ${rate.toFixed(1)}/s${eta}\n`);
    },
    stop: () => {},
  };
}
