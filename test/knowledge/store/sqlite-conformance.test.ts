// The conformance suite run against the embedded SQLite store, in a fresh folder per test.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { KnowledgeStore } from "../../../src/knowledge/store/sqlite-store.js";
import { tempDir } from "../../helpers/paths.js";
import { storeConformance } from "./conformance.js";

storeConformance("sqlite", () => {
  const dir = tempDir("strata-conformance-");
  const store = KnowledgeStore.open(join(dir, "kb"), { create: true });
  return {
    store,
    dispose: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
