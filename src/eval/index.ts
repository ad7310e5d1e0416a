// Evaluation: ranking metrics (defined once, used by everything that scores), the BEIR dataset
// reader, the retrieval-evaluation runner and its HTML report, and the function-calling (BFCL AST) checker.

export { firstRelevantRank, mean, mrrAtK, ndcgAtK, percentile, precisionAtK, recallAtK, topKDistinct, type Qrels } from "./metrics.js";
export { readBeir, type BeirDataset, type BeirDoc, type ReadBeirOptions } from "./beir.js";
export { roundTo, runRetrievalEval, type RetrievalEvalOptions, type RetrievalEvalResult, type RetrievalQueryResult, type SearchFn } from "./retrieval.js";
export { escapeHtml, renderRetrievalReport, type RetrievalReportMeta } from "./report-html.js";
export { checkCall, oracleCall, safeName, standardize, type BfclFunction, type BfclParam, type FunctionCall, type FunctionCallVerdict, type GroundTruth } from "./function-calling.js";
