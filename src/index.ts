// `import … from "strata"`: what most programs need — knowledge bases with cited answers, the model
// interface and its providers, and Strata's errors. The other layers are their own entry points
// ("strata/agents", "strata/server", "strata/train", …; see package.json "exports"), so importing
// the root never loads the HTTP server, the agents runtime or the training engine.
export { StrataError, isStrataError, type ErrorCode } from "./core/errors.js";
export * from "./knowledge/index.js";
export * from "./model/index.js";
