import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseJsonOutput, schemaProblem } from "../../../src/model/providers/openai/json-output.js";
import { StrataError } from "../../../src/core/errors.js";

const person = {
  type: "object",
  properties: {
    name: { type: "string" },
    age: { type: "integer" },
    role: { enum: ["admin", "user"] },
    tags: { type: "array", items: { type: "string" } },
    address: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    nickname: { type: ["string", "null"] },
  },
  required: ["name", "age"],
  additionalProperties: false,
};

describe("schemaProblem", () => {
  it("accepts values that fit", () => {
    assert.equal(schemaProblem({ name: "Ada", age: 36, role: "admin", tags: ["x"], address: { city: "London" }, nickname: null }, person), undefined);
    assert.equal(schemaProblem({ name: "Ada", age: 36 }, person), undefined);
    assert.equal(schemaProblem(3, { type: "number" }), undefined, "an integer is a number");
  });

  it("names the first problem with its path", () => {
    assert.equal(schemaProblem({ name: "Ada" }, person), '$: missing required property "age"');
    assert.equal(schemaProblem({ name: "Ada", age: 36.5 }, person), "$.age: expected integer, got number");
    assert.equal(schemaProblem({ name: "Ada", age: 1, role: "root" }, person), '$.role: "root" is not one of ["admin","user"]');
    assert.equal(schemaProblem({ name: "Ada", age: 1, tags: ["a", 2] }, person), "$.tags[1]: expected string, got integer");
    assert.equal(schemaProblem({ name: "Ada", age: 1, address: {} }, person), '$.address: missing required property "city"');
    assert.equal(schemaProblem({ name: "Ada", age: 1, extra: true }, person), "$.extra: property not allowed by the schema");
    assert.equal(schemaProblem([], person), "$: expected object, got array");
    assert.equal(schemaProblem("x", { anyOf: [{ type: "number" }, { type: "boolean" }] }), "$: matches none of the anyOf alternatives");
    assert.equal(schemaProblem(2, { const: 1 }), "$: expected 1");
  });
});

describe("parseJsonOutput", () => {
  it("returns the parsed value, also from inside a ```json fence", () => {
    assert.deepEqual(parseJsonOutput('{"name":"Ada","age":36}', person, "stop"), { name: "Ada", age: 36 });
    assert.deepEqual(parseJsonOutput('```json\n{"name":"Ada","age":36}\n```', person, "stop"), { name: "Ada", age: 36 });
  });

  it("rejects text that is not JSON with MODEL_OUTPUT_INVALID quoting its start", () => {
    assert.throws(
      () => parseJsonOutput("Sure! Here is the JSON: {name: Ada}", person, "stop"),
      (e: unknown) => e instanceof StrataError && e.code === "MODEL_OUTPUT_INVALID" && /not valid JSON/.test(e.message) && e.message.includes("Sure! Here is") && /response_format/.test(e.hint),
    );
  });

  it("says when the JSON was cut off at the token limit and hints at maxTokens", () => {
    assert.throws(
      () => parseJsonOutput('{"name":"Ad', person, "length"),
      (e: unknown) => e instanceof StrataError && e.code === "MODEL_OUTPUT_INVALID" && /token limit/.test(e.message) && /maxTokens/.test(e.hint),
    );
  });

  it("rejects valid JSON that breaks the schema, naming where", () => {
    assert.throws(() => parseJsonOutput('{"name":"Ada","age":"old"}', person, "stop"), (e: unknown) => e instanceof StrataError && e.code === "MODEL_OUTPUT_INVALID" && e.message.includes("$.age: expected integer, got string"));
  });
});
