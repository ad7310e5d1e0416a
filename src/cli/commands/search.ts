import { Option, type Command } from "commander";
import { KnowledgeBase, SEARCH_MODES, type SearchMode } from "../../knowledge/knowledge-base.js";
import { llmReranker } from "../../knowledge/rerank.js";
import type { SearchHit } from "../../knowledge/types.js";
import { createLanguageModel } from "../../model/registry.js";
import type { EmbeddingModel, LanguageModel } from "../../model/types.js";
import { providerOptions } from "../model-options.js";
import { parseAccess, parseList, parsePositiveInt, requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";
import type { DenseMethod } from "../../knowledge/store/backend.js";
import { isPostgresLocation } from "../../knowledge/store/location.js";
import { progressDisplay } from "../progress.js";
import { withEmbeddingModel } from "./embed.js";

interface SearchFlags {
  kb?: string;
  k?: string;
  as?: string;
  groups?: string;
  tags?: string;
  source?: string;
  mode?: SearchMode;
  embed?: string;
  dense?: DenseMethod;
  rerank?: string;
  json?: boolean;
}

const HELP = `
Modes:
  lexical  BM25F over chunk text and titles (the default without --embed)
  dense    cosine similarity of embedding vectors; needs --embed <ref> and vectors made by
           \`strata embed --model <ref>\` or \`strata ingest --embed <ref>\` with the same reference
  hybrid   both lists fused by reciprocal rank (the default when --embed is given)
--dense auto|exact|ann: how dense top-k is found; auto (default) scans exactly below 20,000
  vectors or when the caller may read few of them, and uses the approximate index otherwise.
--rerank <ref> asks a language model to score the best 20 candidates 0–10 and sorts by its scores.

Example:
  strata search "night tours" --kb ./kb --as guest -k 5
  strata search "night tours" --kb ./kb --embed openai:http://127.0.0.1:11434/v1#nomic-embed-text
  strata search "night tours" --kb ./kb --mode dense --embed gguf:./models/embed.gguf --rerank gguf:./models/chat.gguf`;

export function registerSearch(program: Command): void {
  program
    .command("search")
    .description("rank the chunks of a knowledge base for a query (lexical, dense or hybrid; only documents the caller may read)")
    .argument("<query>", "what to look for")
    .option("--kb <dir>", "knowledge-base folder")
    .option("-k, --k <n>", "how many results (default 10)")
    .option("--as <user>", "search as this user (default: the store's owner, who sees everything)")
    .option("--groups <groups>", "groups of the --as user (comma-separated)")
    .option("--tags <tags>", "only documents with one of these tags")
    .option("--source <prefix>", "only documents whose source starts with this")
    .addOption(new Option("--mode <mode>", "lexical, dense or hybrid (default: hybrid with --embed, else lexical)").choices(SEARCH_MODES))
    .option("--embed <ref>", "embedding model that embedded the chunks; it embeds the query for dense and hybrid search")
    .addOption(new Option("--dense <method>", "dense top-k: auto, exact or ann (default auto)").choices(["auto", "exact", "ann"]))
    .option("--rerank <ref>", "language model that rescores the best candidates")
    .option("--json", "print one JSON document: {query, mode, results:[…]}")
    .addHelpText("after", HELP)
    .action(withCommand(async (query: string, flags: SearchFlags, ctx: CommandContext) => {
      const access = parseAccess(flags);
      const k = parsePositiveInt("-k", flags.k, 10, 1000);
      const mode: SearchMode = flags.mode ?? (flags.embed ? "hybrid" : "lexical");
      const kb = await KnowledgeBase.openAt(requireKb(flags.kb), { onNotice: (m) => process.stderr.write(`notice: ${m}\n`) });
      // A missing or damaged dense index is rebuilt at the first search: show that on stderr.
      const progress = progressDisplay({ quiet: false });
      if (!isPostgresLocation(kb.location)) kb.store.dense.tuning = { ...kb.store.dense.tuning, onProgress: progress.listener };
      let reranker: LanguageModel | undefined;
      try {
        reranker = flags.rerank ? await createLanguageModel(flags.rerank, providerOptions()) : undefined;
        const run = (embedder?: EmbeddingModel): Promise<SearchHit[]> => {
          if (embedder) warnMissingVectors(kb, embedder.id, `strata embed --kb ${flags.kb} --model ${flags.embed}`);
          return kb.search(query, {
            k,
            access,
            mode,
            embedder,
            denseMethod: flags.dense,
            rerank: reranker && llmReranker(reranker),
            signal: ctx.signal,
            filter: { tags: parseList(flags.tags), sourcePrefix: flags.source },
          });
        };
        // Lexical search never loads the embedding model, even when one is named.
        const hits = flags.embed && mode !== "lexical" ? await withEmbeddingModel(flags.embed, run) : await run();
        progress.stop();
        printHits(query, mode, hits, flags.json ? ctx : undefined);
        return 0;
      } finally {
        progress.stop();
        await reranker?.close();
        await kb.closeAsync();
      }
    }));
}

/** Dense results silently miss chunks without vectors; say so on stderr, with the fix. */
function warnMissingVectors(kb: KnowledgeBase, modelId: string, fix: string): void {
  // Without any vectors the search itself fails with its fix; here only the partly embedded case.
  if (!kb.embeddingModels().some((m) => m.modelId === modelId)) return;
  const missing = kb.store.countChunksWithoutVector(modelId);
  if (missing > 0) process.stderr.write(`warning: ${missing} chunks have no vector for ${modelId}; dense results leave them out (run \`${fix}\`)\n`);
}

function printHits(query: string, mode: SearchMode, hits: SearchHit[], json: CommandContext | undefined): void {
  const results = hits.map((h) => ({ rank: h.rank, score: Number(h.score.toFixed(6)), docId: h.docId, source: h.source, chunkId: h.chunkId, headingPath: h.headingPath, page: h.page, start: h.start, end: h.end, text: h.text }));
  if (json) return json.printJson({ query, mode, results });
  if (results.length === 0) {
    process.stdout.write("no results\n");
    return;
  }
  for (const r of results) {
    const where = [r.headingPath.join(" › "), r.page ? `p. ${r.page}` : ""].filter(Boolean).join(", ");
    const snippet = r.text.replace(/\s+/g, " ").slice(0, 200);
    process.stdout.write(`${r.rank}. ${r.source}${where ? ` (${where})` : ""}  score ${r.score.toFixed(3)}  ${r.docId}\n   ${snippet}${r.text.length > 200 ? "…" : ""}\n`);
  }
}
