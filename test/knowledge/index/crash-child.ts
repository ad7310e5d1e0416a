// Child process of crash.test.ts: opens a knowledge base, says "ready", then ingests a folder or
// merges every segment, until the parent kills it with SIGKILL (or it finishes and says "done").
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";

const [mode, kbDir, folder] = process.argv.slice(2) as ["ingest" | "merge", string, string];
const kb = KnowledgeBase.open(kbDir, { create: true });
process.send!("ready");
if (mode === "ingest") await kb.ingest([folder], { prune: true });
else kb.store.index.mergeDue({ all: true });
kb.close();
process.send!("done");
process.disconnect();
