// Structured output: the model's text parsed as JSON and checked against the basic structure of
// the response schema. Servers enforce the schema with varying rigour (llama.cpp and vLLM use a
// grammar, others only prompt), so the answer is checked again here before anyone relies on it.
import { StrataError } from "../../../core/errors.js";
import type { FinishReason, JsonSchema } from "../../types.js";

type Schema = { [key: string]: unknown };

const isSchema = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

/**
 * The first way `value` breaks `schema`, as "$.path: problem", or undefined when it fits.
 * Checks type, enum, const, required, properties, additionalProperties, items, anyOf/oneOf/allOf;
 * other keywords ($ref, formats, numeric ranges) are not checked.
 */
export function schemaProblem(value: unknown, schema: unknown, path = "$"): string | undefined {
  if (!isSchema(schema)) return undefined;
  const type = schema.type;
  if (typeof type === "string" || Array.isArray(type)) {
    const types = (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === "string");
    if (types.length && !types.some((t) => matchesType(value, t))) return `${path}: expected ${types.join(" or ")}, got ${typeOf(value)}`;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    return `${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) return `${path}: expected ${JSON.stringify(schema.const)}`;
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length && options.every((s) => schemaProblem(value, s, path) !== undefined)) return `${path}: matches none of the ${key} alternatives`;
  }
  if (Array.isArray(schema.allOf)) {
    for (const s of schema.allOf) {
      const problem = schemaProblem(value, s, path);
      if (problem) return problem;
    }
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = isSchema(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) if (typeof key === "string" && !Object.hasOwn(obj, key)) return `${path}: missing required property "${key}"`;
    }
    for (const [key, v] of Object.entries(obj)) {
      const child = `${path}.${key}`;
      if (Object.hasOwn(props, key)) {
        const problem = schemaProblem(v, props[key], child);
        if (problem) return problem;
      } else if (schema.additionalProperties === false) {
        return `${child}: property not allowed by the schema`;
      } else if (isSchema(schema.additionalProperties)) {
        const problem = schemaProblem(v, schema.additionalProperties, child);
        if (problem) return problem;
      }
    }
  }
  if (Array.isArray(value) && isSchema(schema.items)) {
    for (let i = 0; i < value.length; i++) {
      const problem = schemaProblem(value[i], schema.items, `${path}[${i}]`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Some servers without schema support wrap JSON in a Markdown fence; the fence is not the answer. */
function unfence(text: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return m ? m[1]! : text;
}

/** Parses and checks the model's answer to a request with a responseSchema. */
export function parseJsonOutput(text: string, schema: JsonSchema, finishReason: FinishReason): unknown {
  const cutShort = finishReason === "length";
  let value: unknown;
  try {
    value = JSON.parse(unfence(text));
  } catch (e) {
    throw new StrataError(
      "MODEL_OUTPUT_INVALID",
      `the model's answer is not valid JSON${cutShort ? " (it stopped at the token limit)" : ""}: ${(e as Error).message}; it begins ${JSON.stringify(text.slice(0, 80))}`,
      cutShort ? "raise maxTokens so the whole JSON fits" : "check that the server supports response_format json_schema (llama.cpp, vLLM, Ollama and OpenAI do), or retry",
    );
  }
  const problem = schemaProblem(value, schema);
  if (problem) {
    throw new StrataError("MODEL_OUTPUT_INVALID", `the model's JSON does not match the response schema: ${problem}`, "check that the server enforces response_format json_schema, or retry with a clearer prompt");
  }
  return value;
}
