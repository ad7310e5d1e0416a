// Training runs over HTTP against a real server on a socket, with the real trainer in a child
// process: a tiny run streams its steps over SSE and leaves a readable checkpoint; a long run stops
// with a checkpoint; the corpus holds only what the starter may read; other users see nothing of a
// run; bad input is a 400, a second run at once a 409; a server closed mid-run leaves it interrupted;
// a resume re-checks the base's membership; --training-slots sets how many train at once (0: none).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readCheckpoint } from "../../src/formats/checkpoint.js";
import { sampleText } from "../train/helpers.js";
import { parseSse, startTestServer, uploadForm, type TestServer } from "./helpers.js";

interface Run {
  id: string;
  owner: string;
  status: string;
  step: number;
  steps: number;
  stopping: boolean;
  documents: number;
  parameters: number | null;
  model: { layers: number; vocab: number } | null;
  checkpointStep: number | null;
  error: { code: string; message: string; hint: string } | null;
  history: { train: { step: number; loss: number; lr: number }[]; val: { step: number; valLoss: number }[] };
}

type ErrorBody = { error: { code: string; message: string; hint: string } };

/** A fast run: the tiny preset's model on short sequences, one batch per evaluation. */
const FAST = { preset: "tiny", batch: 2, block: 16, evalBatches: 1 };

const PUBLIC_TEXT = `# Field notes\n\nPUBLICMARK ${sampleText(2500, 1)}`;
const LAB_TEXT = `# Lab notes\n\nLABSECRET ${sampleText(1500, 2)}`;
const BOB_TEXT = `# Bob's notes\n\nBOBSECRET ${sampleText(1500, 3)}`;

/** Every file under dir with its size and modification time: what "nothing changed on disk" compares. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const st = statSync(join(dir, name));
    if (st.isFile()) out[name] = `${st.size}:${st.mtimeMs}`;
  }
  return out;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("training runs over HTTP", () => {
  let t: TestServer;
  const keys: Record<string, string> = {};
  const runDir = (id: string): string => join(t.dataDir, "training", id);
  const get = (id: string, who: string) => t.client.get(`/api/training-runs/${id}`, keys[who]);
  const start = (who: string, body: Record<string, unknown>) => t.client.post("/api/training-runs", keys[who], body);
  const finished = (id: string, who: string) =>
    until(`run ${id} to end`, async () => {
      const r = (await get(id, who)).json<Run>();
      return r.status === "running" ? undefined : r;
    });

  before(async () => {
    t = await startTestServer();
    const users: Record<string, { groups: string[]; scopes: string[] }> = {
      alice: { groups: ["lab"], scopes: ["read", "ingest"] },
      bob: { groups: [], scopes: ["read", "ingest"] },
      carol: { groups: ["lab"], scopes: ["read", "ingest"] },
      ivan: { groups: ["lab"], scopes: ["ingest"] },
    };
    for (const [name, u] of Object.entries(users)) {
      assert.equal((await t.client.post("/api/users", t.adminKey, { name, groups: u.groups })).status, 201);
      keys[name] = (await t.client.post("/api/keys", t.adminKey, { user: name, scopes: u.scopes })).json<{ key: string }>().key;
    }
    keys.admin = t.adminKey;
    // carol is in the lab group but not a member of the base: she may not use it at all.
    assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "notes", members: { users: ["alice", "bob", "ivan"], groups: [] } })).status, 201);
    assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "scrap", members: { users: ["alice"], groups: [] } })).status, 201);
    const upload = async (kb: string, name: string, text: string, acl: Record<string, string> = {}) => {
      const r = await t.client.request("POST", `/api/kbs/${kb}/documents`, { key: t.adminKey, form: uploadForm([{ name, bytes: Buffer.from(text) }], acl) });
      assert.equal(r.status, 200, r.text);
    };
    await upload("notes", "public.md", PUBLIC_TEXT);
    await upload("notes", "lab.md", LAB_TEXT, { acl_groups: "lab" });
    await upload("notes", "bob.md", BOB_TEXT, { acl_users: "bob" });
    await upload("scrap", "short.md", "# Short\n\nToo short to train on.\n");
  });

  after(async () => {
    await t?.close();
  });

  test("a tiny run streams its steps over SSE, keeps its loss history and leaves a readable checkpoint", async () => {
    const r = await start("alice", { kb: "notes", ...FAST, steps: 6, evalEvery: 3 });
    assert.equal(r.status, 201, r.text);
    const created = r.json<Run>();
    assert.match(created.id, /^run-[0-9a-f]{16}$/);
    assert.equal(created.status, "running");
    assert.equal(created.owner, "alice");
    assert.equal(created.documents, 2);

    const sse = await t.client.request("GET", `/api/training-runs/${created.id}/events`, { key: keys.alice, headers: { accept: "text/event-stream" } });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = parseSse(sse.text);
    assert.equal(events[0]?.event, "run");
    assert.equal(events.at(-1)?.event, "end");
    const end = events.at(-1)!.data as Run;
    assert.equal(end.status, "completed", JSON.stringify(end.error));
    const snapshot = events[0]!.data as Run;
    const steps = events.filter((e) => e.event === "step").map((e) => e.data as { step: number; loss: number; tokensPerSecond: number; etaSeconds: number | null });
    // The snapshot and the live events together cover the run, each step once, in order.
    assert.deepEqual([...snapshot.history.train.map((p) => p.step), ...steps.map((s) => s.step)], [1, 2, 3, 4, 5, 6]);
    for (const s of steps) assert.ok(Number.isFinite(s.loss) && s.loss > 0 && s.tokensPerSecond > 0);
    const evals = events.filter((e) => e.event === "eval").map((e) => (e.data as { step: number }).step);
    assert.deepEqual([...snapshot.history.val.map((p) => p.step), ...evals], [3, 6]);
    assert.ok(events.some((e) => e.event === "checkpoint" && (e.data as { step: number }).step === 6));

    const run = (await get(created.id, "alice")).json<Run>();
    assert.equal(run.status, "completed");
    assert.equal(run.step, 6);
    assert.deepEqual(run.history.train.map((p) => p.step), [1, 2, 3, 4, 5, 6]);
    for (const p of run.history.train) assert.ok(Number.isFinite(p.loss) && p.loss > 0 && p.lr > 0);
    assert.deepEqual(run.history.val.map((p) => p.step), [3, 6]);
    assert.equal(run.checkpointStep, 6);
    assert.equal(run.model?.layers, 4);
    assert.equal(run.model?.vocab, 261);
    assert.equal(run.parameters, 858_496);

    const ck = await readCheckpoint(runDir(created.id));
    assert.equal(ck.step, 6);
    assert.deepEqual(ck.state.history.train.map((p) => p.loss), run.history.train.map((p) => p.loss));
    assert.ok(existsSync(join(runDir(created.id), "loss.html")));

    // The corpus is exactly what alice may read: the public and lab notes, not bob's.
    const corpus = readFileSync(join(runDir(created.id), "corpus.txt"), "utf8");
    assert.ok(corpus.includes("PUBLICMARK") && corpus.includes("LABSECRET"));
    assert.ok(!corpus.includes("BOBSECRET"));

    // Events of a finished run: the run, then end at once.
    const again = parseSse((await t.client.request("GET", `/api/training-runs/${created.id}/events`, { key: keys.alice, headers: { accept: "text/event-stream" } })).text);
    assert.deepEqual(again.map((e) => e.event), ["run", "end"]);
  });

  test("a long run stops with a checkpoint; meanwhile a second start is 409 and nobody else can see, stop or delete it", async () => {
    const r = await start("bob", { kb: "notes", ...FAST, steps: 5000 });
    assert.equal(r.status, 201, r.text);
    const id = r.json<Run>().id;
    const corpus = readFileSync(join(runDir(id), "corpus.txt"), "utf8");
    assert.ok(corpus.includes("PUBLICMARK") && corpus.includes("BOBSECRET"), "bob's corpus has what bob may read");
    assert.ok(!corpus.includes("LABSECRET"), "and nothing of the lab's document");

    const busy = await start("alice", { kb: "notes", ...FAST, steps: 3 });
    assert.equal(busy.status, 409, busy.text);
    assert.equal(busy.json<ErrorBody>().error.code, "CONFLICT");
    assert.match(busy.json<ErrorBody>().error.message, /one run at a time/);
    assert.match(busy.json<ErrorBody>().error.hint, /--training-slots/);

    for (const who of ["alice", "carol"]) {
      const missing = (await t.client.get("/api/training-runs/run-0000000000000000", keys[who])).json<ErrorBody>();
      const answers = [
        await get(id, who),
        await t.client.post(`/api/training-runs/${id}/stop`, keys[who], undefined),
        await t.client.request("GET", `/api/training-runs/${id}/events`, { key: keys[who], headers: { accept: "text/event-stream" } }),
        await t.client.del(`/api/training-runs/${id}`, keys[who]),
        await t.client.post(`/api/training-runs/${id}/resume`, keys[who], {}),
      ];
      for (const a of answers) {
        assert.equal(a.status, 404, `${who}: ${a.text}`);
        assert.equal(a.json<ErrorBody>().error.code, "NOT_FOUND");
        assert.equal(a.json<ErrorBody>().error.hint, missing.error.hint);
      }
      assert.ok(!(await t.client.get("/api/training-runs", keys[who])).json<Run[]>().some((x) => x.id === id));
    }
    assert.ok((await t.client.get("/api/training-runs", keys.admin)).json<Run[]>().some((x) => x.id === id), "admins see every run");

    const del = await t.client.del(`/api/training-runs/${id}`, keys.bob);
    assert.equal(del.status, 409, del.text);

    await until("the first step", async () => ((await get(id, "bob")).json<Run>().step >= 1 ? true : undefined));
    const stop = await t.client.post(`/api/training-runs/${id}/stop`, keys.bob, undefined);
    assert.equal(stop.status, 200, stop.text);
    const stopped = stop.json<Run>();
    assert.equal(stopped.status, "stopped");
    assert.ok(stopped.step >= 1 && stopped.step < 5000);
    assert.equal(stopped.checkpointStep, stopped.step, "the trainer saved where it stopped");
    assert.equal((await readCheckpoint(runDir(id))).step, stopped.step);

    const twice = await t.client.post(`/api/training-runs/${id}/stop`, keys.bob, undefined);
    assert.equal(twice.status, 409);

    // Resume continues the step count from the checkpoint.
    const resumed = await t.client.post(`/api/training-runs/${id}/resume`, keys.bob, { steps: stopped.step + 2 });
    assert.equal(resumed.status, 200, resumed.text);
    const done = await finished(id, "bob");
    assert.equal(done.status, "completed", JSON.stringify(done.error));
    assert.equal(done.step, stopped.step + 2);
    assert.deepEqual(done.history.train.map((p) => p.step), Array.from({ length: stopped.step + 2 }, (_, i) => i + 1));

    const gone = await t.client.del(`/api/training-runs/${id}`, keys.bob);
    assert.equal(gone.status, 200, gone.text);
    assert.equal(existsSync(runDir(id)), false);
    assert.equal((await get(id, "bob")).status, 404);
  });

  test("a base the caller may not use is 404 like a missing one; too little text is a 400 that says so", async () => {
    const hidden = await start("carol", { kb: "notes", ...FAST, steps: 3 });
    const missing = await start("carol", { kb: "no-such-base", ...FAST, steps: 3 });
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(hidden.json<ErrorBody>().error.code, "NOT_FOUND");
    assert.equal(hidden.json<ErrorBody>().error.hint, missing.json<ErrorBody>().error.hint);

    const short = await start("alice", { kb: "scrap", ...FAST, steps: 3 });
    assert.equal(short.status, 400, short.text);
    const e = short.json<ErrorBody>().error;
    assert.equal(e.code, "USAGE");
    assert.match(e.message, /too little text/);
    assert.match(e.hint, /add documents/);

    const noRead = await start("ivan", { kb: "notes", ...FAST, steps: 3 });
    assert.equal(noRead.status, 403, noRead.text);
    assert.equal(noRead.json<ErrorBody>().error.code, "FORBIDDEN");

    // Nothing was left behind by the refused starts.
    const list = (await t.client.get("/api/training-runs", keys.admin)).json<Run[]>();
    assert.ok(!list.some((x) => x.owner === "carol" || x.owner === "ivan"));
  });

  test("resume re-checks the base: an owner who is no longer a member gets the 404 of a missing base, and nothing changes", async () => {
    assert.equal((await t.client.post("/api/users", t.adminKey, { name: "dave", groups: [] })).status, 201);
    keys.dave = (await t.client.post("/api/keys", t.adminKey, { user: "dave", scopes: ["read", "ingest"] })).json<{ key: string }>().key;
    assert.equal((await t.client.post("/api/kbs", t.adminKey, { name: "field", members: { users: ["dave"], groups: [] } })).status, 201);
    const up = await t.client.request("POST", "/api/kbs/field/documents", { key: t.adminKey, form: uploadForm([{ name: "public.md", bytes: Buffer.from(PUBLIC_TEXT) }]) });
    assert.equal(up.status, 200, up.text);

    const r = await start("dave", { kb: "field", ...FAST, steps: 5000 });
    assert.equal(r.status, 201, r.text);
    const id = r.json<Run>().id;
    await until("the first step", async () => ((await get(id, "dave")).json<Run>().step >= 1 ? true : undefined));
    const stopped = (await t.client.post(`/api/training-runs/${id}/stop`, keys.dave, undefined)).json<Run>();
    assert.equal(stopped.status, "stopped");

    const members = await t.client.request("PUT", "/api/kbs/field/members", { key: t.adminKey, body: { users: [], groups: [] } });
    assert.equal(members.status, 200, members.text);
    const before = snapshot(runDir(id));
    const resume = await t.client.post(`/api/training-runs/${id}/resume`, keys.dave, { steps: stopped.step + 2 });
    assert.equal(resume.status, 404, resume.text);
    const missingBase = (await start("dave", { kb: "no-such-base", ...FAST, steps: 3 })).json<ErrorBody>().error;
    assert.equal(resume.json<ErrorBody>().error.code, "NOT_FOUND");
    assert.equal(resume.json<ErrorBody>().error.hint, missingBase.hint);
    assert.match(resume.json<ErrorBody>().error.message, /knowledge base "field"/);

    assert.deepEqual(snapshot(runDir(id)), before, "no file of the run was written");
    const after = (await get(id, "dave")).json<Run>();
    assert.equal(after.status, "stopped");
    assert.equal(after.step, stopped.step);
  });

  test("bad input is a 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ kb: "notes", preset: "huge", steps: 3 }, /preset/],
      [{ kb: "notes", preset: "tiny", steps: 0 }, /steps/],
      [{ kb: "notes", preset: "tiny", steps: 3, colour: "red" }, /colour|unrecognized/i],
      [{ kb: "notes", preset: "tiny", steps: 3, block: 512 }, /block/],
      [{ kb: "../etc", preset: "tiny", steps: 3 }, /kb/],
    ];
    for (const [body, field] of cases) {
      const r = await start("alice", body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      const e = r.json<ErrorBody>().error;
      assert.equal(e.code, "USAGE");
      assert.match(e.message, field);
      assert.ok(e.hint);
    }
    for (const path of ["/api/training-runs/..%2F..%2Fserver.db", "/api/training-runs/run-XYZ", "/api/training-runs/..%2Fkbs/stop"]) {
      const r = path.endsWith("/stop") ? await t.client.post(path, keys.alice, undefined) : await t.client.get(path, keys.alice);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.json<ErrorBody>().error.code, "USAGE");
    }
  });

  test("/openapi.json lists the training routes with their scopes", async () => {
    const doc = (await t.client.get("/openapi.json")).json<{ paths: Record<string, Record<string, { "x-strata-scope"?: string }>> }>();
    assert.equal(doc.paths["/api/training-runs"]?.get?.["x-strata-scope"], "read");
    assert.equal(doc.paths["/api/training-runs"]?.post?.["x-strata-scope"], "ingest");
    assert.equal(doc.paths["/api/training-runs/{id}"]?.get?.["x-strata-scope"], "read");
    assert.equal(doc.paths["/api/training-runs/{id}"]?.delete?.["x-strata-scope"], "ingest");
    assert.equal(doc.paths["/api/training-runs/{id}/events"]?.get?.["x-strata-scope"], "read");
    assert.equal(doc.paths["/api/training-runs/{id}/stop"]?.post?.["x-strata-scope"], "ingest");
  });

  test("closing the server stops a run with a checkpoint; the next server lists it as interrupted", async () => {
    const r = await start("alice", { kb: "notes", ...FAST, steps: 5000 });
    assert.equal(r.status, 201, r.text);
    const id = r.json<Run>().id;
    await until("the first step", async () => ((await get(id, "alice")).json<Run>().step >= 1 ? true : undefined));
    await t.close();
    t = await startTestServer({ dataDir: t.dataDir });
    const run = (await get(id, "alice")).json<Run>();
    assert.equal(run.status, "interrupted");
    assert.equal(run.error?.code, "ABORTED");
    assert.ok(run.checkpointStep !== null && run.checkpointStep >= 1);
    assert.equal(run.checkpointStep, run.step);
  });
});

describe("--training-slots", () => {
  const admin = "test-admin-key-0123456789abcdef";

  test("with 2 slots two runs train at once and a third is 409", async () => {
    const t = await startTestServer({ trainingSlots: 2 });
    try {
      assert.equal((await t.client.post("/api/kbs", admin, { name: "notes" })).status, 201);
      const up = await t.client.request("POST", "/api/kbs/notes/documents", { key: admin, form: uploadForm([{ name: "public.md", bytes: Buffer.from(PUBLIC_TEXT) }]) });
      assert.equal(up.status, 200, up.text);
      const first = await t.client.post("/api/training-runs", admin, { kb: "notes", ...FAST, steps: 5000 });
      const second = await t.client.post("/api/training-runs", admin, { kb: "notes", ...FAST, steps: 5000 });
      assert.equal(first.status, 201, first.text);
      assert.equal(second.status, 201, second.text);
      const third = await t.client.post("/api/training-runs", admin, { kb: "notes", ...FAST, steps: 5000 });
      assert.equal(third.status, 409, third.text);
      assert.match(third.json<ErrorBody>().error.message, /2 training runs are in progress/);
      const running = (await t.client.get("/api/training-runs", admin)).json<Run[]>().filter((r) => r.status === "running");
      assert.equal(running.length, 2);
    } finally {
      await t.close();
    }
  });

  test("with 0 slots training runs are off: a start is a 409 naming the flag; listing still works", async () => {
    const t = await startTestServer({ trainingSlots: 0 });
    try {
      const r = await t.client.post("/api/training-runs", admin, { kb: "notes", ...FAST, steps: 3 });
      assert.equal(r.status, 409, r.text);
      const e = r.json<ErrorBody>().error;
      assert.equal(e.code, "CONFLICT");
      assert.match(e.message, /training runs are turned off.*--training-slots 0/);
      assert.match(e.hint, /--training-slots 1 or more/);
      const list = await t.client.get("/api/training-runs", admin);
      assert.equal(list.status, 200);
      assert.deepEqual(list.json<Run[]>(), []);
    } finally {
      await t.close();
    }
  });

  test("a slot count that is not a whole number ≥ 0 is refused at start-up", async () => {
    await assert.rejects(startTestServer({ trainingSlots: -1 }), /trainingSlots must be a whole number/);
  });
});
