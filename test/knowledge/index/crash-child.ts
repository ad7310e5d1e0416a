// Child process of crash.test.ts: opens a knowledge base, says "ready", then ingests a folder or
// merges every segment, until the parent kills it with SIGKILL (or it finishes and says "done").
// Run any other way (a test runner picking up every file), it does nothing.
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";

async function main(send: (m: string) => void): Promise<void> {
  const [mode, kbDir, folder] = process.argv.slice(2) as ["ingest" | "merge", string, string];
  const kb = KnowledgeBase.open(kbDir, { create: true });
  send("ready");
  if (mode === "ingest") await kb.ingest([folder], { prune: true });
  else kb.store.index.mergeDue({ all: true });
  kb.close();
  send("done");
  process.disconnect();
}

if (process.send) await main((m) => process.send!(m));
