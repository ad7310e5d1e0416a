// A generated knowledge base for the dense-retrieval tests: many one-chunk documents drawn from a
// seeded vocabulary, some readable only by the research group, some tagged.
import { join } from "node:path";
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";
import type { ExtractedDocument } from "../../../src/knowledge/types.js";
import { tempDir } from "../../helpers/paths.js";
import { uniformSource } from "../../../src/core/random.js";

const WORDS = (
  "harbour museum lantern tram ticket lighthouse lens schooner wreck sonar survey sled archive map " +
  "garden cafe tour guide night gallery ship anchor rope tide storm keeper bell clock tower bridge " +
  "canal boat fish market bread coffee library book painting statue coin medal glass bottle"
).split(" ");

/** Deterministic uniform numbers from the repository's one seeded generator. */
export const rng = uniformSource;

export function doc(text: string, title = ""): ExtractedDocument {
  return { text, title, mime: "text/plain", blocks: [{ kind: "paragraph", start: 0, end: text.length }] };
}

export interface Corpus {
  kb: KnowledgeBase;
  dir: string;
  publicSources: string[];
  researchSources: string[];
}

/** `n` public documents plus `secret` research-only ones that all talk about the sonar survey. */
export function buildCorpus(n = 60, secret = 8, seed = 7): Corpus {
  const dir = join(tempDir(), "kb");
  const kb = KnowledgeBase.open(dir, { create: true });
  const rand = rng(seed);
  const pick = (): string => WORDS[Math.floor(rand() * WORDS.length)]!;
  const publicSources: string[] = [];
  const researchSources: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = Array.from({ length: 12 + Math.floor(rand() * 10) }, pick).join(" ") + ".";
    const source = `mem:public/${i}`;
    kb.writeExtracted({ source, document: doc(text, `Note ${i}`) }, { tags: i % 2 === 0 ? ["even"] : [] });
    publicSources.push(source);
  }
  for (let i = 0; i < secret; i++) {
    const text = `The sonar survey of the schooner wreck uses the sled. ${Array.from({ length: 6 }, pick).join(" ")}.`;
    const source = `mem:research/${i}`;
    kb.writeExtracted({ source, document: doc(text, "Wreck survey") }, { acl: { users: [], groups: ["research"] } });
    researchSources.push(source);
  }
  return { kb, dir, publicSources, researchSources };
}
