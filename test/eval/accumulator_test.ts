import assert from "node:assert/strict";
import { EvalAccumulator } from "../../src/eval/accumulator.ts";

Deno.test("EvalAccumulator.summary() averages per class, over classes and over instances", () => {
  const acc = new EvalAccumulator();
  acc.add("ship", 0.5, 0.25);
  acc.add("ship", 1, 0.75);
  acc.add("ship", 0.75, 0.5);
  acc.add("plane", 0.25, 0.1);
  const s = acc.summary();
  assert.deepEqual(s.classes.map((c) => [c.className, c.instances]), [["ship", 3], ["plane", 1]]);
  assert.equal(s.classes[0]!.iou, 0.75);
  assert.equal(s.mIoU, (0.75 + 0.25) / 2);
  assert.ok(Math.abs(s.mBIoU! - (0.5 + 0.1) / 2) < 1e-15);
  assert.equal(s.all.iou, 2.5 / 4);
  assert.equal(s.all.instances, 4);
});

Deno.test("EvalAccumulator.summary() keeps declared classes without instances out of the means", () => {
  const acc = new EvalAccumulator(["helicopter", "ship"]);
  acc.add("ship", 0.5, 0.5);
  const s = acc.summary();
  assert.deepEqual(s.classes[0], {
    className: "helicopter",
    instances: 0,
    iou: null,
    boundaryIou: null,
  });
  assert.equal(s.mIoU, 0.5);
  const empty = new EvalAccumulator().summary();
  assert.equal(empty.mIoU, null);
  assert.equal(empty.all.iou, null);
});

Deno.test("EvalAccumulator.add() rejects non-finite scores", () => {
  assert.throws(() => new EvalAccumulator().add("ship", NaN, 0), RangeError);
});
