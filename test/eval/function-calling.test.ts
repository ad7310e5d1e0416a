// Edge cases of the function-calling (BFCL AST) checker: each way a call can be wrong is named by
// its own verdict kind, and a call is checked against the expected function among several offered.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkCall, oracleCall, safeName, standardize, type BfclFunction, type FunctionCall, type GroundTruth } from "../../src/eval/index.js";

const book: BfclFunction = {
  name: "hotel.book",
  description: "book a room",
  parameters: {
    type: "dict",
    properties: {
      city: { type: "string" },
      nights: { type: "integer" },
      budget: { type: "float" },
      breakfast: { type: "boolean" },
      guests: { type: "array", items: { type: "string" } },
      room: { type: "dict", properties: { beds: { type: "integer" } } },
      note: { type: "string" },
    },
    required: ["city", "nights"],
  },
};
const cancel: BfclFunction = {
  name: "hotel.cancel",
  description: "cancel a booking",
  parameters: { type: "dict", properties: { booking: { type: "string" } }, required: ["booking"] },
};
const weather: BfclFunction = {
  name: "weather",
  description: "the forecast",
  parameters: { type: "dict", properties: { city: { type: "string" } }, required: ["city"] },
};
// "note" is documented but absent from the ground truth: BFCL treats sending it as unexpected.
const truth: GroundTruth = [
  { "hotel.book": { city: ["Paris", "Paris, France"], nights: [2, 3], budget: [150.5, ""], breakfast: [true, ""], guests: [["Ann", "Bo"], ""], room: [{ beds: [2] }, ""] } },
];
const all = [cancel, book, weather];

const verdict = (args: Record<string, unknown>, name = "hotel_book", functions = all) => checkCall({ name, arguments: args }, functions, truth);
const kindOf = (args: Record<string, unknown>, name?: string, functions?: BfclFunction[]): string => {
  const v = verdict(args, name, functions);
  return v.ok ? "ok" : v.kind;
};

describe("checkCall", () => {
  it("accepts the required parameters alone when the rest may be left out", () => {
    assert.deepEqual(verdict({ city: "paris", nights: 2 }), { ok: true });
    assert.deepEqual(verdict({ city: "Paris France", nights: 3, budget: 150.5, breakfast: true, guests: ["ann", "BO"], room: { beds: 2 } }), { ok: true });
  });

  it("reports no call when the model made none", () => {
    const v = checkCall(undefined, all, truth);
    assert.equal(v.ok, false);
    assert.equal(v.ok ? "" : v.kind, "no_call");
  });

  it("rejects a value of the wrong type", () => {
    assert.equal(kindOf({ city: "Paris", nights: "2" }), "wrong_type", "a string for an integer");
    assert.equal(kindOf({ city: "Paris", nights: 2.5 }), "wrong_type", "a fraction for an integer");
    assert.equal(kindOf({ city: 7, nights: 2 }), "wrong_type", "a number for a string");
    assert.equal(kindOf({ city: "Paris", nights: 2, breakfast: "yes" }), "wrong_type", "a string for a boolean");
    assert.equal(kindOf({ city: "Paris", nights: 2, guests: "Ann, Bo" }), "wrong_type", "a string for an array");
    assert.equal(kindOf({ city: "Paris", nights: 2, room: [2] }), "wrong_type", "an array for a dict");
    assert.equal(kindOf({ city: "Paris", nights: 2, room: null }), "wrong_type", "null for a dict");
    const v = verdict({ city: "Paris", nights: "2" });
    assert.equal(v.ok ? "" : v.detail, 'nights: "2" is not a integer');
  });

  it("accepts an integer where a float is documented, compared by value", () => {
    const t: GroundTruth = [{ "hotel.book": { city: ["Paris"], nights: [2], budget: [150.0] } }];
    assert.deepEqual(checkCall({ name: "hotel_book", arguments: { city: "Paris", nights: 2, budget: 150 } }, all, t), { ok: true });
  });

  it("rejects a call that lacks a required parameter", () => {
    assert.equal(kindOf({ city: "Paris" }), "missing_param");
    assert.equal(kindOf({ nights: 2 }), "missing_param");
    const v = verdict({ city: "Paris" });
    assert.equal(v.ok ? "" : v.detail, "missing required parameter nights");
  });

  it("rejects leaving out a parameter the ground truth gives no default for, even when the schema calls it optional", () => {
    const t: GroundTruth = [{ "hotel.book": { city: ["Paris"], nights: [2], budget: [99] } }];
    const v = checkCall({ name: "hotel_book", arguments: { city: "Paris", nights: 2 } }, all, t);
    assert.equal(v.ok ? "" : v.kind, "missing_param");
    assert.equal(v.ok ? "" : v.detail, "missing parameter budget (no default accepted)");
  });

  it("rejects a value outside the accepted list", () => {
    assert.equal(kindOf({ city: "Lyon", nights: 2 }), "wrong_value");
    assert.equal(kindOf({ city: "Paris", nights: 4 }), "wrong_value");
    assert.equal(kindOf({ city: "Paris", nights: 2, breakfast: false }), "wrong_value");
    assert.equal(kindOf({ city: "Paris", nights: 2, guests: ["Ann"] }), "wrong_value", "a list compares element by element, length included");
    assert.equal(kindOf({ city: "Paris", nights: 2, guests: ["Bo", "Ann"] }), "wrong_value", "order matters in a list");
    assert.equal(kindOf({ city: "Paris", nights: 2, room: { beds: 1 } }), "wrong_value", "a dict compares key by key");
    assert.equal(kindOf({ city: "Paris", nights: 2, room: { beds: 2, view: "sea" } }), "wrong_value", "a dict with an unknown key");
    assert.equal(kindOf({ city: "Paris", nights: 2, budget: "" }), "wrong_type", '"" only means "may be left out", it is no value');
  });

  it("rejects an extra parameter, undocumented or absent from the ground truth", () => {
    assert.equal(kindOf({ city: "Paris", nights: 2, pets: true }), "unexpected_param", "not in the function's schema");
    assert.equal(kindOf({ city: "Paris", nights: 2, note: "late arrival" }), "unexpected_param", "documented, but no answer uses it");
    const v = verdict({ city: "Paris", nights: 2, pets: true });
    assert.equal(v.ok ? "" : v.detail, "unexpected parameter pets");
  });

  it("checks the expected function among several, by its provider-safe or documented name", () => {
    assert.equal(kindOf({ city: "Paris", nights: 2 }, "hotel_book"), "ok");
    assert.equal(kindOf({ city: "Paris", nights: 2 }, "hotel.book"), "ok");
    assert.equal(kindOf({ city: "Paris", nights: 2 }, "hotel_book", [weather, book]), "ok", "the order functions are offered in does not matter");
    assert.equal(kindOf({ booking: "B1" }, "hotel_cancel"), "wrong_function", "another offered function");
    assert.equal(kindOf({ city: "Paris" }, "weather"), "wrong_function");
    assert.equal(kindOf({ city: "Paris", nights: 2 }, "hotel_reserve"), "wrong_function", "a function that was not offered");
    const v = verdict({ booking: "B1" }, "hotel_cancel");
    assert.equal(v.ok ? "" : v.detail, "called hotel_cancel, expected hotel.book");
  });

  it("names the first problem it finds: the function, then required parameters, then each argument in order", () => {
    assert.equal(kindOf({ city: 1 }, "weather"), "wrong_function");
    assert.equal(kindOf({ city: 1 }), "missing_param");
    assert.equal(kindOf({ city: 1, nights: 2, pets: true }), "wrong_type");
    assert.equal(kindOf({ pets: true, city: 1, nights: 2 }), "unexpected_param");
  });
});

describe("oracleCall", () => {
  it("turns the ground truth into a call the checker accepts, with optional parameters left out", () => {
    const call: FunctionCall = oracleCall(truth, all);
    assert.deepEqual(call, { name: "hotel_book", arguments: { city: "Paris", nights: 2 } });
    assert.deepEqual(checkCall(call, all, truth), { ok: true });
  });
});

describe("standardize and safeName", () => {
  it("normalise strings the way BFCL does and keep names provider-safe", () => {
    assert.equal(standardize("New York, N.Y. - USA"), "newyorknyusa");
    assert.equal(standardize("it's"), 'it"s');
    assert.equal(safeName("math.gcd"), "math_gcd");
    assert.equal(safeName("a".repeat(80)).length, 64);
  });
});
