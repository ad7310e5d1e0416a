// The form that starts a training run: a knowledge base the user may use (the run trains on the
// text of its documents the user may read), a preset, the number of steps, and in "More settings"
// the batch, block, learning rate and seed. The server checks everything again; its refusals
// (too little text, a run already going) are shown with their hint.
import { useState, type FormEvent } from "react";
import type { KbSummary } from "../api.ts";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";
import { ErrorNote } from "./common.tsx";
import type { TrainingRun } from "./TrainingLive.tsx";

const PRESETS = [
  { name: "tiny", label: "tiny (0.9M parameters)", help: "4 layers on bytes; block up to 64" },
  { name: "small", label: "small (3M parameters)", help: "6 layers on a 1,024-token vocabulary; block up to 128" },
] as const;

/** A number from an input, or undefined when it is empty. */
function optionalNumber(s: string): number | undefined {
  return s.trim() === "" ? undefined : Number(s);
}

export function TrainingStartForm({ onStarted }: { onStarted: (run: TrainingRun) => void }) {
  const { client } = useSession();
  const kbs = useLoad((signal) => client.request<KbSummary[]>("/api/kbs", { signal }), [client]);
  const [kb, setKb] = useState("");
  const [preset, setPreset] = useState<string>("tiny");
  const [steps, setSteps] = useState("200");
  const [batch, setBatch] = useState("");
  const [block, setBlock] = useState("");
  const [lr, setLr] = useState("");
  const [seed, setSeed] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const chosenKb = kb || kbs.data?.[0]?.name || "";

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = { kb: chosenKb, preset, steps: Number(steps), batch: optionalNumber(batch), block: optionalNumber(block), lr: optionalNumber(lr), seed: optionalNumber(seed) };
      const run = await client.request<TrainingRun>("/api/training-runs", { body: Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) });
      onStarted(run);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel training-start" onSubmit={(e) => void submit(e)} aria-labelledby="training-start-title">
      <h2 id="training-start-title">Start a run</h2>
      {kbs.error ? <ErrorNote error={kbs.error} title="Knowledge bases could not be listed" /> : null}
      {kbs.data?.length === 0 ? <p className="muted small">You are not a member of any knowledge base, so there is no text to train on.</p> : null}
      <div className="field">
        <label htmlFor="training-kb">Knowledge base</label>
        <select id="training-kb" required value={chosenKb} onChange={(e) => setKb(e.target.value)} aria-describedby="training-kb-help">
          {kbs.data?.map((k) => (
            <option key={k.name} value={k.name}>
              {k.name} ({k.documents} document{k.documents === 1 ? "" : "s"} you may read)
            </option>
          ))}
        </select>
        <small id="training-kb-help" className="muted">
          The model learns from the documents of this base that you may read.
        </small>
      </div>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="training-preset">Preset</label>
          <select id="training-preset" value={preset} onChange={(e) => setPreset(e.target.value)} aria-describedby="training-preset-help">
            {PRESETS.map((p) => (
              <option key={p.name} value={p.name}>
                {p.label}
              </option>
            ))}
          </select>
          <small id="training-preset-help" className="muted">
            {PRESETS.find((p) => p.name === preset)?.help}
          </small>
        </div>
        <div className="field">
          <label htmlFor="training-steps">Steps</label>
          <input id="training-steps" type="number" inputMode="numeric" required min={1} max={100000} step={1} value={steps} onChange={(e) => setSteps(e.target.value)} />
        </div>
      </div>
      <details className="training-more">
        <summary>More settings</summary>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="training-batch">Batch (sequences per step)</label>
            <input id="training-batch" type="number" inputMode="numeric" min={1} max={256} step={1} placeholder="preset's" value={batch} onChange={(e) => setBatch(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="training-block">Block (tokens per sequence)</label>
            <input id="training-block" type="number" inputMode="numeric" min={2} max={1024} step={1} placeholder="preset's" value={block} onChange={(e) => setBlock(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="training-lr">Learning rate</label>
            <input id="training-lr" type="number" inputMode="decimal" min={0} max={1} step="any" placeholder="preset's" value={lr} onChange={(e) => setLr(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="training-seed">Seed</label>
            <input id="training-seed" type="number" inputMode="numeric" min={0} step={1} placeholder="1337" value={seed} onChange={(e) => setSeed(e.target.value)} />
          </div>
        </div>
      </details>
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy || !chosenKb}>
          {busy ? "Starting…" : "Start training"}
        </button>
      </div>
      {error ? <ErrorNote error={error} title="The run was not started" /> : null}
    </form>
  );
}
