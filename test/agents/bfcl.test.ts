// The BFCL AST checker (src/eval/function-calling.ts) as bench/bfcl.ts uses it: names, required and
// unknown parameters, types (an integer passes for a float), BFCL's string normalisation, nested
// lists and dicts of alternatives, optional parameters, the tool definitions the benchmark sends —
// and, when the dataset is present, every ground-truth answer passes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCategory, toToolDefinition } from "../../bench/bfcl.js";
import { checkCall, oracleCall, safeName, type BfclFunction, type GroundTruth } from "../../src/eval/function-calling.js";
import { sharedData } from "../helpers/paths.js";

const fn: BfclFunction = {
  name: "geo.distance",
  description: "distance",
  parameters: {
    type: "dict",
    properties: { from: { type: "string" }, to: { type: "string" }, km: { type: "float" }, opts: { type: "dict", properties: { mode: { type: "string" } } }, stops: { type: "array", items: { type: "string" } } },
    required: ["from", "to"],
  },
};
const truth: GroundTruth = [{ "geo.distance": { from: ["New York, NY", "NYC"], to: ["Boston"], km: [5.0, ""], opts: [{ mode: ["car", ""] }, ""], stops: [["Hartford"], ""] } }];

test("the AST checker accepts what BFCL accepts and names what it rejects", () => {
  const call = (args: Record<string, unknown>, name = "geo_distance") => checkCall({ name, arguments: args }, [fn], truth);
  assert.equal(safeName("geo.distance"), "geo_distance");
  assert.deepEqual(call({ from: "new york ny", to: "boston" }), { ok: true }, "strings compare after BFCL's normalisation");
  assert.deepEqual(call({ from: "NYC", to: "Boston", km: 5, opts: { mode: "Car" }, stops: ["hartford"] }), { ok: true }, "an integer passes for a float; nested values compare too");
  assert.equal(call({ from: "NYC", to: "Boston" }, "geo.distance").ok, true, "the original dotted name is accepted too");
  const kind = (args: Record<string, unknown>, name?: string) => {
    const v = call(args, name);
    return v.ok ? "ok" : v.kind;
  };
  assert.equal(kind({ from: "NYC", to: "Boston" }, "other"), "wrong_function");
  assert.equal(kind({ from: "NYC" }), "missing_param");
  assert.equal(kind({ from: "NYC", to: "Boston", speed: 3 }), "unexpected_param");
  assert.equal(kind({ from: "NYC", to: "Boston", km: "5" }), "wrong_type");
  assert.equal(kind({ from: "Paris", to: "Boston" }), "wrong_value");
  assert.equal(kind({ from: "NYC", to: "Boston", opts: { mode: "bike" } }), "wrong_value");
  assert.equal(checkCall(undefined, [fn], truth).ok, false);
  const def = toToolDefinition(fn);
  assert.equal(def.name, "geo_distance");
  assert.deepEqual((def.parameters.properties as Record<string, unknown>).km, { type: "number" });
  assert.deepEqual(oracleCall(truth, [fn]), { name: "geo_distance", arguments: { from: "New York, NY", to: "Boston" } });
});

test("every ground-truth answer of the BFCL simple and multiple sets passes the checker", { skip: sharedData("bfcl") ? false : "../shared/data/bfcl is not present" }, () => {
  for (const category of ["simple", "multiple"] as const) {
    for (const { item, truth: t } of loadCategory(sharedData("bfcl")!, category)) {
      const v = checkCall(oracleCall(t, item.function), item.function, t);
      assert.ok(v.ok, `${item.id}: ${v.ok ? "" : v.detail}`);
    }
  }
});
