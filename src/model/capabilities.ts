// The LanguageModel contract's version and what a provider declares it can do, so callers choose a
// path before they send a request instead of reading error messages afterwards (the Vercel AI
// SDK's provider specification is the model). "maybe" is for a provider that cannot know until it
// asks: an OpenAI-compatible server may or may not implement tools; it then refuses with the typed
// MODEL_UNSUPPORTED error (`unsupported()`), which is all a caller needs to look at.
import { StrataError } from "../core/errors.js";
import type { LanguageModel, LanguageModelSpec, ModelCapabilities } from "./types.js";

/** The contract version providers implement; bumped on a breaking change to LanguageModel. */
export const LANGUAGE_MODEL_SPEC: LanguageModelSpec = "strata.language-model.v1";

/** What is assumed of a model that declares nothing (a caller's own LanguageModel). */
export const UNDECLARED: ModelCapabilities = { tools: "maybe", jsonSchema: "maybe", streaming: "maybe", logprobs: false };

/** The model's declared capabilities, or UNDECLARED. */
export function capabilitiesOf(model: LanguageModel | undefined): ModelCapabilities {
  return model?.capabilities ?? UNDECLARED;
}

export type ModelFeature = "tools" | "jsonSchema";

const FEATURE_NAMES: Record<ModelFeature, string> = { tools: "tool calls are", jsonSchema: "JSON-schema output (responseSchema) is" };

/** The feature a MODEL_UNSUPPORTED error is about (its message names it first), if it is one of ours. */
export function unsupportedFeature(message: string): ModelFeature | undefined {
  return (Object.keys(FEATURE_NAMES) as ModelFeature[]).find((f) => message.startsWith(`${FEATURE_NAMES[f]} not supported`));
}

/** "<feature> … not supported by <where>": the sentence `unsupported` starts its message with. */
export function unsupportedMessage(feature: ModelFeature, where: string): string {
  return `${FEATURE_NAMES[feature]} not supported by ${where}`;
}

/** The one error for "this model cannot do that": code MODEL_UNSUPPORTED, the feature named first. */
export function unsupported(feature: ModelFeature, where: string, hint: string, cause?: unknown): StrataError {
  return new StrataError("MODEL_UNSUPPORTED", unsupportedMessage(feature, where), hint, cause === undefined ? undefined : { cause });
}
