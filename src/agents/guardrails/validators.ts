// Input and output validators: small functions with one shape, composed in order. Each returns the
// (possibly rewritten) text and what it found; a validator that blocks makes the whole check fail.
//
//   const check = composeValidators(maxLength(4000), jailbreakScreen(), redactPii());
//   const r = check(userGoal);  // r.ok, r.text (redacted), r.issues
import { z } from "zod";
import { StrataError } from "../../core/errors.js";
import { describeIssues } from "../tools/execute.js";
import { detectInstructions } from "./untrusted.js";

export interface ValidationIssue {
  validator: string;
  message: string;
  /** True when the issue makes the text unacceptable (false: it was only rewritten or noted). */
  blocking: boolean;
}

export interface ValidationResult {
  ok: boolean;
  text: string;
  issues: ValidationIssue[];
}

export type Validator = (text: string) => ValidationResult;

const pass = (text: string): ValidationResult => ({ ok: true, text, issues: [] });
const block = (text: string, validator: string, message: string): ValidationResult => ({ ok: false, text, issues: [{ validator, message, blocking: true }] });

/** Runs validators in order, each on the text the previous one returned; every issue is kept. */
export function composeValidators(...validators: Validator[]): Validator {
  return (text) => {
    let current = text;
    const issues: ValidationIssue[] = [];
    for (const v of validators) {
      const r = v(current);
      current = r.text;
      issues.push(...r.issues);
    }
    return { ok: !issues.some((i) => i.blocking), text: current, issues };
  };
}

/** At most `max` characters (and, when given, at least `min`). */
export function maxLength(max: number, min = 0): Validator {
  return (text) => {
    if (text.length > max) return block(text, "length", `${text.length} characters, more than the limit of ${max}`);
    if (text.length < min) return block(text, "length", `${text.length} characters, fewer than the minimum of ${min}`);
    return pass(text);
  };
}

/** The text is JSON matching `schema` (model output that must be structured). */
export function schemaValidator(schema: z.ZodType): Validator {
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return block(text, "schema", `not JSON: ${(e as Error).message}`);
    }
    const r = schema.safeParse(value);
    return r.success ? pass(text) : block(text, "schema", describeIssues(r.error));
  };
}

const JAILBREAK = [
  /\b(?:DAN|do anything now)\b/,
  /\bdeveloper mode\b/i,
  /\b(?:no|without) (?:any )?(?:restrictions|filters|limits|guidelines|rules)\b/i,
  /\bpretend (?:you are|to be) (?:an? )?(?:unfiltered|uncensored|evil|unrestricted)/i,
  /\bjailbreak/i,
];

/** Blocks known jailbreak phrasings and prompt-injection overrides ("ignore previous instructions"). */
export function jailbreakScreen(): Validator {
  return (text) => {
    const hits = JAILBREAK.map((re) => re.exec(text)?.[0]).filter((m): m is string => Boolean(m));
    for (const f of detectInstructions(text)) if (f.kind === "override" || f.kind === "persona") hits.push(f.excerpt);
    return hits.length ? block(text, "jailbreak", `jailbreak or override pattern: "${hits[0]}"`) : pass(text);
  };
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const PII: Array<[label: string, re: RegExp, check?: (m: string) => boolean]> = [
  ["EMAIL", /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g],
  ["CARD", /\b(?:\d[ -]?){13,19}\b/g, (m) => luhn(m.replace(/\D/g, ""))],
  ["IBAN", /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g],
  ["SSN", /\b\d{3}-\d{2}-\d{4}\b/g],
  // International numbers with a +, or North American (555) 123-4567 / 555-123-4567; bare digit groups are left alone.
  ["PHONE", /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}|\(\d{3}\)\s?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})\b/g],
];

/** Replaces e-mail addresses, card numbers (Luhn-checked), IBANs, US SSNs and phone numbers with [LABEL]. */
export function redactPii(): Validator {
  return (text) => {
    let out = text;
    const counts = new Map<string, number>();
    for (const [label, re, check] of PII) {
      out = out.replace(re, (m) => {
        if (check && !check(m)) return m;
        counts.set(label, (counts.get(label) ?? 0) + 1);
        return `[${label}]`;
      });
    }
    const issues = [...counts].map(([label, n]) => ({ validator: "pii", message: `redacted ${n} ${label.toLowerCase()}${n > 1 ? "s" : ""}`, blocking: false }));
    return { ok: true, text: out, issues };
  };
}

/** Throws GUARDRAIL_BLOCKED when the result did not pass; returns the (rewritten) text otherwise. */
export function enforce(result: ValidationResult, what: string): string {
  if (result.ok) return result.text;
  const first = result.issues.find((i) => i.blocking)!;
  throw new StrataError("GUARDRAIL_BLOCKED", `${what} was blocked by the ${first.validator} check: ${first.message}`, "rephrase it, or run without that validator");
}
