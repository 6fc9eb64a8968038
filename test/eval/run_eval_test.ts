import assert from "node:assert/strict";
import { parseCocoGt } from "../../src/eval/coco_gt.ts";
import { type EvalPrompt, evaluate } from "../../src/eval/run_eval.ts";
import { decodeRle } from "../../src/masks/rle.ts";
import type { MaskWindow } from "../../src/masks/mask_window.ts";

const GT = parseCocoGt({
  images: [
    { id: 1, file_name: "a.jpg", width: 64, height: 64 },
    { id: 2, file_name: "b.jpg", width: 64, height: 64 },
  ],
  categories: [
    { id: 1, name: "ship" },
    { id: 8, name: "large_vehicle" },
    { id: 9, name: "small_vehicle" },
  ],
  annotations: [
    { id: 11, image_id: 1, category_id: 1, segmentation: [[2, 2, 9, 2, 9, 6, 2, 6]], iscrowd: 0 },
    { id: 12, image_id: 1, category_id: 9, segmentation: [[20, 20, 30, 25, 25, 35]], iscrowd: 0 },
    { id: 21, image_id: 2, category_id: 8, segmentation: [[40, 40, 50, 40, 45, 50]], iscrowd: 0 },
  ],
});

/** A segmenter that paints the horizontal box of each prompt. */
async function hboxSegmenter(_image: unknown, prompts: EvalPrompt[]): Promise<MaskWindow[]> {
  await Promise.resolve();
  return prompts.map((p) => {
    const x0 = Math.ceil(p.hbox.x0 - 0.5), y0 = Math.ceil(p.hbox.y0 - 0.5);
    const w = Math.ceil(p.hbox.x1 - 0.5) - x0, h = Math.ceil(p.hbox.y1 - 0.5) - y0;
    return { x0, y0, width: w, height: h, data: new Uint8Array(w * h).fill(1) };
  });
}

Deno.test("evaluate() with a segmenter equals the matching baseline", async () => {
  const a = await evaluate(GT, { segment: hboxSegmenter });
  const b = await evaluate(GT, { baseline: "hbox-fill" });
  assert.deepEqual(a.report.summary, b.report.summary);
  assert.deepEqual(a.report.bySize, b.report.bySize);
  assert.equal(a.report.mode, "model");
  assert.equal(b.report.mode, "hbox-fill");
  assert.deepEqual(a.results.map((r) => r.annotation_id), [11, 12, 21]);
  assert.deepEqual(a.report.summary.classes.map((c) => c.className), [
    "large_vehicle",
    "ship",
    "small_vehicle",
  ]);
  // the rectangle is its own horizontal box
  assert.equal(a.report.summary.classes[1]!.iou, 1);
  assert.equal(a.report.dilations[0], 1); // round(0.005 * 90.5) = 0 -> 1
});

Deno.test("evaluate() writes COCO results with the GT ids and an exact RLE", async () => {
  const { results } = await evaluate(GT, { baseline: "obb-fill" });
  const r = results[0]!;
  assert.equal(r.image_id, 1);
  assert.equal(r.category_id, 1);
  assert.equal(r.score, 1);
  assert.equal(r.iou, 1);
  assert.deepEqual(r.segmentation.size, [64, 64]);
  assert.equal(decodeRle(r.segmentation).reduce((s, v) => s + v, 0), 8 * 5);
  const none = await evaluate(GT, { baseline: "obb-fill", cocoResults: false });
  assert.equal(none.results.length, 0);
});

Deno.test("evaluate() selects and merges classes by name", async () => {
  const { report } = await evaluate(GT, { baseline: "obb-fill", classes: ["vehicle"] });
  assert.deepEqual(report.summary.classes.map((c) => [c.className, c.instances]), [["vehicle", 2]]);
  assert.equal(report.summary.all.instances, 2);
  await assert.rejects(
    () => evaluate(GT, { baseline: "obb-fill", classes: ["plane"] }),
    RangeError,
  );
});

Deno.test("evaluate() scores given prompts and skips instances without one", async () => {
  const seen: EvalPrompt[] = [];
  const { report } = await evaluate(GT, {
    prompts: new Map([[11, { cx: 6, cy: 4.5, width: 8, height: 5, angle: 0 }]]),
    segment: (image, prompts) => {
      seen.push(...prompts);
      return hboxSegmenter(image, prompts);
    },
  });
  assert.equal(report.skippedInstances, 2);
  assert.equal(report.summary.all.instances, 1);
  assert.deepEqual(seen[0]!.hbox, { x0: 2, y0: 2, x1: 10, y1: 7 });
  assert.equal(report.summary.mIoU, 1);
});

Deno.test("evaluate() applies seeded prompt noise, the same on every run", async () => {
  const boxes = async () => {
    const out: EvalPrompt[] = [];
    await evaluate(GT, {
      promptNoise: { shift: 0.2, seed: 5 },
      segment: (image, prompts) => {
        out.push(...prompts);
        return hboxSegmenter(image, prompts);
      },
    });
    return out;
  };
  const a = await boxes(), b = await boxes();
  assert.deepEqual(a, b);
  const clean = await evaluate(GT, { baseline: "obb-fill" });
  assert.notEqual(a[0]!.box.cx, 6);
  assert.ok(clean.report.summary.classes.length === 3);
});

Deno.test("evaluate() checks its options and the segmenter's output", async () => {
  await assert.rejects(() => evaluate(GT, {}), TypeError);
  await assert.rejects(
    () => evaluate(GT, { baseline: "obb-fill", segment: hboxSegmenter }),
    TypeError,
  );
  await assert.rejects(
    () => evaluate(GT, { segment: () => Promise.resolve([]) }),
    /returned 0 masks for 2 prompts/,
  );
});

Deno.test("evaluate() reports progress, honours maxImages and aborts", async () => {
  const progress: number[] = [];
  const { report } = await evaluate(GT, {
    baseline: "obb-fill",
    maxImages: 1,
    onProgress: (p) => progress.push(p.images),
  });
  assert.deepEqual(progress, [1]);
  assert.equal(report.images, 1);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(() => evaluate(GT, { baseline: "obb-fill", signal: controller.signal }));
});

Deno.test("evaluate() maxPerClass keeps the first instances of each class in image order", async () => {
  const gt = parseCocoGt({
    images: [
      { id: 1, file_name: "a.jpg", width: 64, height: 64 },
      { id: 2, file_name: "b.jpg", width: 64, height: 64 },
    ],
    categories: [{ id: 1, name: "ship" }, { id: 9, name: "small_vehicle" }],
    annotations: [
      { id: 11, image_id: 1, category_id: 1, segmentation: [[2, 2, 9, 2, 9, 6, 2, 6]], iscrowd: 0 },
      { id: 12, image_id: 1, category_id: 1, segmentation: [[20, 2, 29, 2, 29, 6]], iscrowd: 0 },
      { id: 13, image_id: 1, category_id: 9, segmentation: [[40, 40, 50, 40, 45, 50]], iscrowd: 0 },
      { id: 21, image_id: 2, category_id: 1, segmentation: [[2, 30, 9, 30, 9, 36]], iscrowd: 0 },
      { id: 22, image_id: 2, category_id: 9, segmentation: [[20, 20, 30, 25, 25, 35]], iscrowd: 0 },
    ],
  });
  const r = await evaluate(gt, { baseline: "obb-fill", maxPerClass: 1 });
  assert.deepEqual(r.results.map((x) => x.annotation_id), [11, 13]);
  assert.deepEqual(r.report.summary.classes.map((c) => c.instances), [1, 1]);
});

/** An axis-aligned rectangle polygon over pixel indices `x0..x1` x `y0..y1` (inclusive). */
function rect(x0: number, y0: number, x1: number, y1: number): number[][] {
  return [[x0, y0, x1, y0, x1, y1, x0, y1]];
}

/** Instances whose GT oriented box has a long side of 63, 64, 255 and 256 px. */
const SIZES_GT = parseCocoGt({
  images: [{ id: 1, file_name: "a.jpg", width: 300, height: 300 }],
  categories: [{ id: 1, name: "ship" }, { id: 2, name: "plane" }],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, segmentation: rect(0, 0, 62, 9), iscrowd: 0 },
    { id: 2, image_id: 1, category_id: 1, segmentation: rect(0, 20, 9, 83), iscrowd: 0 },
    { id: 3, image_id: 1, category_id: 2, segmentation: rect(20, 20, 274, 29), iscrowd: 0 },
    { id: 4, image_id: 1, category_id: 2, segmentation: rect(20, 40, 275, 49), iscrowd: 0 },
  ],
});

Deno.test("evaluate() bins instances by the long side of their GT oriented box", async () => {
  for (const baseline of ["obb-fill", "hbox-fill"] as const) {
    const { report } = await evaluate(SIZES_GT, { baseline });
    assert.deepEqual(report.bySize.map((b) => [b.name, b.all.instances]), [
      ["<64", 1], // 63 px
      ["64-256", 2], // 64 px (a vertical box) and 255 px
      [">=256", 1], // 256 px
    ]);
    assert.deepEqual(report.bySize.map((b) => b.classes.map((c) => [c.className, c.instances])), [
      [["plane", 0], ["ship", 1]],
      [["plane", 1], ["ship", 1]],
      [["plane", 1], ["ship", 0]],
    ]);
    assert.equal(report.bySize[1]!.mIoU, 1); // rectangles fill exactly
  }
  const wide = await evaluate(SIZES_GT, { baseline: "obb-fill", sizeEdges: [100] });
  assert.deepEqual(wide.report.bySize.map((b) => [b.name, b.all.instances]), [
    ["<100", 2],
    [">=100", 2],
  ]);
  await assert.rejects(
    () => evaluate(SIZES_GT, { baseline: "obb-fill", sizeEdges: [256, 64] }),
    RangeError,
  );
});

Deno.test("evaluate() sizes an instance by its GT box, not by a noisy or given prompt", async () => {
  const clean = await evaluate(SIZES_GT, { baseline: "obb-fill" });
  const counts = (r: typeof clean) => r.report.bySize.map((b) => b.all.instances);
  const noisy = await evaluate(SIZES_GT, {
    baseline: "obb-fill",
    promptNoise: { shift: 0.5, scale: 0.5, angle: 20, seed: 3 },
  });
  assert.deepEqual(counts(noisy), counts(clean));
  assert.ok(noisy.report.summary.all.iou! < 1);
  // a 10 px detection box for the 256 px plane: still a large instance
  const given = await evaluate(SIZES_GT, {
    baseline: "obb-fill",
    prompts: new Map([[4, { cx: 30, cy: 45, width: 10, height: 10, angle: 0 }]]),
  });
  assert.deepEqual(counts(given), [0, 0, 1]);
});

Deno.test("evaluate() by size: mIoU averages classes, the all row averages instances", async () => {
  // four instances under 64 px: three small vehicles segmented exactly, one ship
  // whose mask is the left half of its 8 x 5 box (IoU 0.5, Boundary IoU < 1)
  const gt = parseCocoGt({
    images: [{ id: 1, file_name: "a.jpg", width: 64, height: 64 }],
    categories: [{ id: 1, name: "ship" }, { id: 9, name: "small_vehicle" }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, segmentation: rect(2, 2, 9, 6), iscrowd: 0 },
      { id: 2, image_id: 1, category_id: 9, segmentation: rect(20, 2, 25, 5), iscrowd: 0 },
      { id: 3, image_id: 1, category_id: 9, segmentation: rect(20, 20, 25, 23), iscrowd: 0 },
      { id: 4, image_id: 1, category_id: 9, segmentation: rect(40, 40, 45, 43), iscrowd: 0 },
    ],
  });
  const { report } = await evaluate(gt, {
    segment: async (image, prompts) => {
      const masks = await hboxSegmenter(image, prompts);
      return masks.map((m, i) => {
        if (prompts[i]!.annotationId !== 1) return m;
        const w = m.width / 2;
        return { ...m, width: w, data: new Uint8Array(w * m.height).fill(1) };
      });
    },
  });
  const [small, medium, large] = report.bySize;
  assert.equal(small!.all.instances, 4);
  assert.equal(small!.all.iou, (3 + 0.5) / 4);
  assert.equal(small!.mIoU, (1 + 0.5) / 2);
  assert.deepEqual(small!.classes.map((c) => [c.className, c.instances, c.iou]), [
    ["ship", 1, 0.5],
    ["small_vehicle", 3, 1],
  ]);
  // a single bin holds everything: its numbers are the overall ones
  assert.equal(small!.mIoU, report.summary.mIoU);
  assert.equal(small!.mBIoU, report.summary.mBIoU);
  assert.deepEqual(small!.all, report.summary.all);
  assert.equal(medium!.all.instances + large!.all.instances, 0);
});

Deno.test("evaluate() with concurrent segment calls scores in image order, whatever finishes first", async () => {
  let active = 0, most = 0;
  const calls: string[] = [];
  // The first image answers last: with a window of 2 both are in flight at once.
  const slowFirst = async (image: { fileName: string }, prompts: EvalPrompt[]) => {
    calls.push(image.fileName);
    active++;
    most = Math.max(most, active);
    await new Promise((r) => setTimeout(r, image.fileName === "a.jpg" ? 30 : 1));
    active--;
    return await hboxSegmenter(image, prompts);
  };
  const one = await evaluate(GT, { segment: hboxSegmenter });
  const progress: number[] = [];
  const two = await evaluate(GT, {
    segment: slowFirst,
    concurrency: 2,
    onProgress: (p) => progress.push(p.images),
  });
  assert.equal(most, 2);
  assert.deepEqual(calls, ["a.jpg", "b.jpg"]);
  assert.deepEqual(progress, [1, 2]);
  assert.deepEqual(two.report.summary, one.report.summary);
  assert.deepEqual(two.results, one.results);
});
