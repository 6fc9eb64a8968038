import assert from "node:assert/strict";
import { normalizeClassName, parseClassGroups, selectClasses } from "../../src/eval/class_map.ts";

const ISAID = [
  "ship",
  "storage_tank",
  "baseball_diamond",
  "large_vehicle",
  "small_vehicle",
  "helicopter",
  "swimming_pool",
  "plane",
];
const NWPU = ["airplane", "ship", "storage tank", "baseball diamond", "vehicle"];

Deno.test("normalizeClassName() lowercases and joins words with _", () => {
  assert.equal(normalizeClassName("Storage Tank"), "storage_tank");
  assert.equal(normalizeClassName("small-vehicle"), "small_vehicle");
  assert.equal(normalizeClassName(" ship "), "ship");
});

Deno.test("selectClasses() keeps every class under its own name without a selection", () => {
  const sel = selectClasses(undefined, ISAID);
  assert.deepEqual(sel.reportNames, ISAID);
  assert.equal(sel.reportName.get("plane"), "plane");
  assert.deepEqual(selectClasses([], ISAID).reportNames, ISAID);
});

Deno.test("selectClasses() maps airplane to plane and vehicle to small + large vehicles", () => {
  const sel = selectClasses(["airplane", "vehicle", "Storage-Tank"], ISAID);
  assert.deepEqual(sel.reportNames, ["airplane", "vehicle", "storage_tank"]);
  assert.equal(sel.reportName.get("plane"), "airplane");
  assert.equal(sel.reportName.get("small_vehicle"), "vehicle");
  assert.equal(sel.reportName.get("large_vehicle"), "vehicle");
  assert.equal(sel.reportName.get("storage_tank"), "storage_tank");
  assert.equal(sel.reportName.has("ship"), false);
});

Deno.test("selectClasses() maps plane to NWPU's airplane and matches spaced names", () => {
  const sel = selectClasses(["plane", "storage_tank", "vehicle"], NWPU);
  assert.equal(sel.reportName.get("airplane"), "plane");
  assert.equal(sel.reportName.get("storage tank"), "storage_tank");
  assert.equal(sel.reportName.get("vehicle"), "vehicle");
});

Deno.test("selectClasses() prefers a dataset class over a group of the same name", () => {
  // NWPU has a "vehicle" class: selecting it does not look for small/large vehicles
  const sel = selectClasses(["vehicle"], [...NWPU, "small_vehicle"]);
  assert.equal(sel.reportName.get("vehicle"), "vehicle");
  assert.equal(sel.reportName.has("small_vehicle"), false);
});

Deno.test("selectClasses() fails on unknown and on doubly selected classes", () => {
  assert.throws(
    () => selectClasses(["tractor"], ISAID),
    (e: unknown) =>
      e instanceof RangeError &&
      /Cannot select class "tractor".*classes: ship, storage_tank/.test(e.message),
  );
  assert.throws(() => selectClasses(["vehicle", "small_vehicle"], ISAID), /already selected/);
});

Deno.test("selectClasses() takes user groups", () => {
  const groups = parseClassGroups("car=small_vehicle,truck=large-vehicle");
  const sel = selectClasses(["car", "truck"], ISAID, { groups });
  assert.equal(sel.reportName.get("small_vehicle"), "car");
  assert.equal(sel.reportName.get("large_vehicle"), "truck");
});

Deno.test("parseClassGroups() rejects items without members", () => {
  assert.throws(() => parseClassGroups("car"), SyntaxError);
  assert.throws(() => parseClassGroups("car="), SyntaxError);
  assert.deepEqual(parseClassGroups(""), {});
});
