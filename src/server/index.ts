// The server layer's public surface: start a Strata HTTP server over a data folder, and the
// pieces the CLI needs to administer one offline (users and keys in server.db).
export { createStrataServer, type StrataServer, type StrataServerOptions } from "./app.js";
export { Accounts, ADMIN_USER, SCOPES, type Caller, type KeyInfo, type Scope, type UserInfo } from "./accounts.js";
export { openServerDb, SERVER_DB_FILE } from "./db.js";
export { ModelCatalog, parseServedModel, RAG_PREFIX, type ServedEmbeddingModel, type ServedLanguageModel } from "./models.js";
export { ServerError, statusOf, type ApiErrorCode } from "./errors.js";
