import assert from "node:assert/strict";
import {
  longSide,
  SIZE_EDGES,
  SizeAccumulator,
  sizeBinIndex,
  sizeBins,
} from "../../src/eval/size_bins.ts";

Deno.test("sizeBinIndex() puts an edge in the bin above it", () => {
  assert.deepEqual(SIZE_EDGES, [64, 256]);
  const cases: [number, number][] = [
    [0, 0],
    [1, 0],
    [63.9, 0],
    [63.999999, 0],
    [64, 1],
    [64.1, 1],
    [255.9, 1],
    [256, 2],
    [256.1, 2],
    [10_000, 2],
  ];
  for (const [side, bin] of cases) assert.equal(sizeBinIndex(side), bin, `long side ${side}`);
  assert.equal(sizeBinIndex(32, [32]), 1);
  assert.equal(sizeBinIndex(31.9, [32]), 0);
});

Deno.test("sizeBinIndex() rejects a size that is not a finite number >= 0", () => {
  for (const bad of [-1, NaN, Infinity]) {
    assert.throws(() => sizeBinIndex(bad), RangeError, `long side ${bad}`);
  }
});

Deno.test("sizeBins() names the default bins and gives half-open bounds", () => {
  assert.deepEqual(sizeBins(), [
    { name: "<64", minLongSide: 0, maxLongSide: 64 },
    { name: "64-256", minLongSide: 64, maxLongSide: 256 },
    { name: ">=256", minLongSide: 256, maxLongSide: null },
  ]);
  assert.deepEqual(sizeBins([16, 32, 96]).map((b) => b.name), ["<16", "16-32", "32-96", ">=96"]);
});

Deno.test("sizeBins() rejects edges that are empty, not positive or not increasing", () => {
  assert.throws(() => sizeBins([]), RangeError);
  assert.throws(() => sizeBins([0, 64]), RangeError);
  assert.throws(() => sizeBins([64, 64]), RangeError);
  assert.throws(() => sizeBins([256, 64]), /edges must increase/);
  assert.throws(() => sizeBins([64, Infinity]), RangeError);
});

Deno.test("longSide() is the longer side whatever the angle", () => {
  assert.equal(longSide({ cx: 5, cy: 5, width: 70, height: 20, angle: 0 }), 70);
  assert.equal(longSide({ cx: 5, cy: 5, width: 20, height: 70, angle: -1.2 }), 70);
});

Deno.test("SizeAccumulator.summary() gives a bin's mean over classes and over instances", () => {
  const acc = new SizeAccumulator();
  // <64: three small vehicles at 0.75 and one ship at 0.25
  for (const side of [10, 20, 63.9]) {
    acc.add("small_vehicle", { longSide: side, iou: 0.75, boundaryIou: 0.5 });
  }
  acc.add("ship", { longSide: 40, iou: 0.25, boundaryIou: 0 });
  // 64-256: one ship on the lower edge
  acc.add("ship", { longSide: 64, iou: 0.5, boundaryIou: 0.25 });
  const [small, medium, large] = acc.summary();
  assert.equal(small!.name, "<64");
  assert.equal(small!.all.instances, 4);
  assert.equal(small!.all.iou, (3 * 0.75 + 0.25) / 4); // 0.625: the vehicles dominate
  assert.equal(small!.mIoU, (0.75 + 0.25) / 2); // 0.5: each class counts once
  assert.equal(small!.all.boundaryIou, 1.5 / 4);
  assert.equal(small!.mBIoU, 0.25);
  assert.equal(medium!.all.instances, 1);
  assert.equal(medium!.mIoU, 0.5);
  assert.equal(medium!.all.iou, 0.5);
  assert.equal(large!.all.instances, 0);
  assert.equal(large!.mIoU, null);
  assert.equal(large!.all.iou, null);
});

Deno.test("SizeAccumulator.summary() lists every class in every bin, in the given order", () => {
  const acc = new SizeAccumulator({ classNames: ["helicopter"] });
  acc.add("ship", { longSide: 300, iou: 1, boundaryIou: 1 });
  acc.add("plane", { longSide: 30, iou: 0.5, boundaryIou: 0.5 });
  const bins = acc.summary(["plane", "ship"]);
  for (const b of bins) {
    assert.deepEqual(b.classes.map((c) => c.className), ["plane", "ship", "helicopter"]);
  }
  assert.deepEqual(bins.map((b) => b.classes.map((c) => c.instances)), [
    [1, 0, 0],
    [0, 0, 0],
    [0, 1, 0],
  ]);
  assert.deepEqual(bins[0]!.classes[1], {
    className: "ship",
    instances: 0,
    iou: null,
    boundaryIou: null,
  });
  // declared first, then first seen
  assert.deepEqual(acc.summary()[0]!.classes.map((c) => c.className), [
    "helicopter",
    "ship",
    "plane",
  ]);
});

Deno.test("SizeAccumulator rejects bad edges and non-finite scores", () => {
  assert.throws(() => new SizeAccumulator({ edges: [64, 32] }), RangeError);
  const acc = new SizeAccumulator();
  assert.throws(() => acc.add("ship", { longSide: NaN, iou: 1, boundaryIou: 1 }), RangeError);
  assert.throws(() => acc.add("ship", { longSide: 10, iou: NaN, boundaryIou: 1 }), RangeError);
});
