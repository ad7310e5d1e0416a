// Evaluation: metrics (defined once, used by everything that scores: ranking, QA, citations, RAG), the dataset readers,
// runners (retrieval, QA, function calling, agent tasks), the run store, compare, judge, reports and the gate.

export { firstRelevantRank, mean, mrrAtK, ndcgAtK, percentile, precisionAtK, recallAtK, topKDistinct, type Qrels } from "./metrics.js";
export { readBeir, type BeirDataset, type BeirDoc, type ReadBeirOptions } from "./beir.js";
export { roundTo, runRetrievalEval, type RetrievalEvalOptions, type RetrievalEvalResult, type RetrievalQueryResult, type SearchFn } from "./retrieval.js";
export { escapeHtml, renderRetrievalReport, type RetrievalReportMeta } from "./report-html.js";
export { checkCall, oracleCall, safeName, standardize, type BfclFunction, type BfclParam, type FunctionCall, type FunctionCallVerdict, type GroundTruth } from "./function-calling.js";
export { abstentionScore, answerTokens, exactMatch, f1Score, maxOverGolds, normalizeAnswer, scoreAnswer, tokenF1, type AbstentionScore, type QaScore } from "./qa-metrics.js";
export { citationScore, evidenceF1, idfTable, verifierJudge, type CitationScore, type CitedStatement, type SupportJudge } from "./citation-metrics.js";
export { answerRelevancy, contextPrecisionAtK, contextRecall, faithfulness } from "./rag-metrics.js";
export { pairedBootstrap, type BootstrapOptions, type PairedInterval } from "./bootstrap.js";
export { readQaDataset, type QaDataset, type QaItem, type QaPassage, type ReadQaOptions } from "./qa-datasets.js";
export { readBfcl, bfclCategory, type BfclItem } from "./bfcl.js";
export { checkCalls, toJsonSchema, toToolDefinition, type BfclCategory, type CallsVerdict } from "./function-calling.js";
export { evaluateQa, type QaEvalOptions, type QaEvalResult } from "./qa-eval.js";
export { runQaEval, scoreQaItem, summarizeQa, type Answerer, type QaPrediction, type QaRunOptions } from "./qa-runner.js";
export { judgePair, judgeRubric, modelSupportJudge, selfAgreement, JudgeFailed, RUBRIC_PROMPT, RUBRIC_VERSION, type JudgeOutcome, type PairVerdict, type RubricScores } from "./judge.js";
export { appendItem, completeRun, createRun, listRuns, openRun, type RunRecord, type StoredItem, type StoredRun } from "./run-store.js";
export { compareRuns, type CompareOptions, type MetricDelta, type RunComparison } from "./compare.js";
export { junitXml, qaJunit, type JUnitCase } from "./junit.js";
export { renderCompareReport, renderQaReport } from "./qa-report-html.js";
export { runToolsEval, summarizeTools } from "./tools-eval.js";
export { builtinAgentTasks, runAgentTasks, summarizeAgentTasks, type AgentTask, type TaskWorld } from "./agent-tasks.js";
export { checkGate, measureGate, readBaseline, type GateFigures } from "./gate.js";
