// The guardrails a knowledge base or a server switches on, as the answer pipeline's guards: the
// jailbreak screen on questions, PII redaction on what answers show. Settings from the CLI flags,
// the server's options and the knowledge base's own (`strata guardrails`) add up: any one switches a guard on.
import type { AnswerGuards } from "../../knowledge/answer/guard.js";
import type { GuardrailSettings } from "../../knowledge/knowledge-base.js";
import { jailbreakScreen, redactPii } from "./validators.js";

export type { GuardrailSettings };

/** Guards for these settings; undefined when none is on (answers then run exactly as before). */
export function answerGuards(...settings: Array<Partial<GuardrailSettings> | undefined>): AnswerGuards | undefined {
  const screen = settings.some((s) => s?.screenJailbreaks === true);
  const redact = settings.some((s) => s?.redactPii === true);
  if (!screen && !redact) return undefined;
  return {
    ...(screen ? { input: jailbreakScreen() } : {}),
    ...(redact ? { output: redactPii() } : {}),
    names: [...(screen ? ["screen-jailbreaks"] : []), ...(redact ? ["redact-pii"] : [])],
  };
}
