// JSON Schema → the subset node-llama-cpp turns into a grammar. node-llama-cpp silently reads what it
// does not know as `null` (`{"type": "nonsense"}`, `anyOf`, `{}` all become "null"), so every schema
// is checked here first: annotations are dropped, `anyOf` is read as `oneOf` (any one branch is a valid
// value), and anything a grammar cannot enforce is refused with the exact place it occurs.
import type { GbnfJsonSchema } from "node-llama-cpp";
import { StrataError } from "../../../core/errors.js";
import type { JsonSchema } from "../../types.js";

const BASIC_TYPES = new Set(["string", "number", "integer", "boolean", "null"]);
const FORMATS = new Set(["date-time", "time", "date"]);
// Keywords that only describe: safe to drop.
const ANNOTATIONS = new Set(["title", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding"]);
const STRUCTURAL = new Set(["type", "description", "const", "enum", "oneOf", "anyOf", "properties", "required", "additionalProperties", "minProperties", "maxProperties", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "format", "$ref", "$defs", "definitions"]);

/** A copy of `schema` node-llama-cpp can turn into a grammar, or a USAGE error naming what it cannot. */
export function toGrammarSchema(schema: JsonSchema, what: string): GbnfJsonSchema {
  const out = convert(schema, what, "#");
  checkRefs(out, what);
  return out as GbnfJsonSchema;
}

/** Every $ref must name a definition (node-llama-cpp would quietly allow any value instead). */
function checkRefs(root: Record<string, unknown>, what: string): void {
  const defined = new Set<string>();
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as Record<string, unknown>;
    if (n.$defs && typeof n.$defs === "object") for (const name of Object.keys(n.$defs)) defined.add(name);
    if (typeof n.$ref === "string") refs.push(n.$ref.slice("#/$defs/".length));
    Object.values(n).forEach(walk);
  };
  walk(root);
  const missing = refs.find((r) => !defined.has(r));
  if (missing !== undefined) throw new StrataError("USAGE", `${what}: $ref "#/$defs/${missing}" names no definition`, "add it under $defs, or fix the reference");
}

function convert(node: unknown, what: string, path: string): Record<string, unknown> {
  const fail = (problem: string, hint = "use type, properties, required, items, enum, const, oneOf/anyOf, $ref into $defs, minLength/maxLength, minItems/maxItems"): never => {
    throw new StrataError("USAGE", `${what} at ${path}: ${problem}`, `llama.cpp grammars support a subset of JSON Schema: ${hint}`);
  };
  if (typeof node !== "object" || node === null || Array.isArray(node)) fail(`a schema must be an object, not ${JSON.stringify(node)}`);
  const src = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(src)) {
    if (ANNOTATIONS.has(key)) continue;
    if (!STRUCTURAL.has(key)) fail(`"${key}" cannot be enforced by a grammar`, "remove it and check that constraint in your own code");
    const at = `${path}/${key}`;
    switch (key) {
      case "type": {
        const types = Array.isArray(value) ? value : [value];
        const ok = types.length > 0 && types.every((t) => typeof t === "string" && (BASIC_TYPES.has(t) || (!Array.isArray(value) && (t === "object" || t === "array"))));
        if (!ok) fail(`type ${JSON.stringify(value)} is not supported`, "use one of string, number, integer, boolean, null, object, array (a list only of the first five)");
        out.type = value;
        break;
      }
      case "description":
        if (typeof value === "string") out.description = value;
        break;
      case "const":
        if (value !== null && !["string", "number", "boolean"].includes(typeof value)) fail("const must be a string, number, boolean or null");
        out.const = value;
        break;
      case "enum":
        if (!Array.isArray(value) || value.length === 0 || value.some((v) => v !== null && !["string", "number", "boolean"].includes(typeof v))) fail("enum must be a non-empty list of strings, numbers, booleans or null");
        out.enum = value;
        break;
      case "oneOf":
      case "anyOf":
        if (!Array.isArray(value) || value.length === 0) fail(`${key} must be a non-empty list of schemas`);
        out.oneOf = (value as unknown[]).map((v, i) => convert(v, what, `${at}/${i}`));
        break;
      case "properties": {
        if (typeof value !== "object" || value === null || Array.isArray(value)) fail("properties must be an object");
        const props: Record<string, unknown> = {};
        for (const [name, sub] of Object.entries(value as Record<string, unknown>)) props[name] = convert(sub, what, `${at}/${name}`);
        out.properties = props;
        break;
      }
      case "required":
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) fail("required must be a list of property names");
        out.required = value;
        break;
      case "additionalProperties":
        out.additionalProperties = typeof value === "boolean" ? value : convert(value, what, at);
        break;
      case "items":
        if (typeof value === "boolean") fail("items must be a schema", "describe the items with a schema");
        out.items = convert(value, what, at);
        break;
      case "prefixItems":
        if (!Array.isArray(value)) fail("prefixItems must be a list of schemas");
        out.prefixItems = (value as unknown[]).map((v, i) => convert(v, what, `${at}/${i}`));
        break;
      case "$defs":
      case "definitions": {
        if (typeof value !== "object" || value === null) fail(`${key} must be an object of schemas`);
        const defs: Record<string, unknown> = {};
        for (const [name, sub] of Object.entries(value as Record<string, unknown>)) defs[name] = convert(sub, what, `${at}/${name}`);
        out.$defs = defs;
        break;
      }
      case "$ref":
        if (typeof value !== "string" || !/^#\/(\$defs|definitions)\/[^/]+$/.test(value)) fail(`$ref ${JSON.stringify(value)} must point into #/$defs`);
        out.$ref = (value as string).replace("#/definitions/", "#/$defs/");
        break;
      case "format":
        // Formats are annotations in JSON Schema 2020-12; the three llama.cpp can enforce are kept.
        if (typeof value === "string" && FORMATS.has(value)) out.format = value;
        break;
      default:
        if (!Number.isInteger(value) || (value as number) < 0) fail(`${key} must be a whole number ≥ 0`);
        out[key] = value;
    }
  }
  if (!("type" in out) && "properties" in out) out.type = "object";
  if (!("type" in out) && ("items" in out || "prefixItems" in out)) out.type = "array";
  const kinds = ["type", "const", "enum", "oneOf", "$ref"].filter((k) => k in out);
  if (kinds.length === 0) fail("the schema says nothing about the value (no type, const, enum, oneOf or $ref)", "give every value a type");
  if (out.type === "string" && out.format && ("minLength" in out || "maxLength" in out)) delete out.format;
  return out;
}
