import assert from "node:assert/strict";
import { formatJsonReport, formatMarkdownReport, formatTextReport } from "../../src/eval/report.ts";
import { parseCocoGt } from "../../src/eval/coco_gt.ts";
import { type EvalReport, evaluate } from "../../src/eval/run_eval.ts";
import type { SizeBin } from "../../src/eval/size_bins.ts";

const REPORT: EvalReport = {
  gt: "val/annotations.json.gz",
  mode: "obb-fill",
  images: 2,
  skippedInstances: 0,
  dilationRatio: 0.005,
  dilations: [4],
  promptNoise: { shift: 0.1, scale: 0.1, angle: 5, seed: 0 },
  settings: { noRam: true },
  seconds: 1.25,
  summary: {
    classes: [
      { className: "helicopter", instances: 0, iou: null, boundaryIou: null },
      { className: "small_vehicle", instances: 3, iou: 0.8, boundaryIou: 0.7 },
      { className: "plane", instances: 1, iou: 0.3458, boundaryIou: 0.1279 },
    ],
    mIoU: 0.5729,
    mBIoU: 0.414,
    all: { className: "all", instances: 4, iou: 0.6865, boundaryIou: 0.557 },
  },
  bySize: [
    {
      name: "<64",
      minLongSide: 0,
      maxLongSide: 64,
      classes: [
        { className: "helicopter", instances: 0, iou: null, boundaryIou: null },
        { className: "small_vehicle", instances: 3, iou: 0.8, boundaryIou: 0.7 },
        { className: "plane", instances: 0, iou: null, boundaryIou: null },
      ],
      mIoU: 0.8,
      mBIoU: 0.7,
      all: { className: "all", instances: 3, iou: 0.8, boundaryIou: 0.7 },
    },
    {
      name: "64-256",
      minLongSide: 64,
      maxLongSide: 256,
      classes: [
        { className: "helicopter", instances: 0, iou: null, boundaryIou: null },
        { className: "small_vehicle", instances: 0, iou: null, boundaryIou: null },
        { className: "plane", instances: 1, iou: 0.3458, boundaryIou: 0.1279 },
      ],
      mIoU: 0.3458,
      mBIoU: 0.1279,
      all: { className: "all", instances: 1, iou: 0.3458, boundaryIou: 0.1279 },
    },
    {
      name: ">=256",
      minLongSide: 256,
      maxLongSide: null,
      classes: [
        { className: "helicopter", instances: 0, iou: null, boundaryIou: null },
        { className: "small_vehicle", instances: 0, iou: null, boundaryIou: null },
        { className: "plane", instances: 0, iou: null, boundaryIou: null },
      ],
      mIoU: null,
      mBIoU: null,
      all: { className: "all", instances: 0, iou: null, boundaryIou: null },
    },
  ],
};

Deno.test("formatTextReport() prints per-class rows, the class means and the all-instance means", () => {
  const text = formatTextReport(REPORT);
  assert.match(
    text,
    /^baseline obb-fill on val\/annotations.json.gz \(2 images, Boundary IoU band 4 px, prompt noise shift=0.1/,
  );
  assert.match(text, /helicopter\s+0\s+-\s+-/);
  assert.match(text, /small_vehicle\s+3\s+80\.00\s+70\.00/);
  assert.match(text, /plane\s+1\s+34\.58\s+12\.79/);
  assert.match(text, /mean over classes\s+57\.29\s+41\.40/);
  assert.match(text, /all instances\s+4\s+68\.65\s+55\.70/);
});

Deno.test("formatMarkdownReport() gives a table with settings", () => {
  const md = formatMarkdownReport(REPORT);
  assert.match(md, /^# Evaluation: baseline obb-fill/);
  assert.match(md, /- noRam: `true`/);
  assert.match(md, /\| small_vehicle \| 3 \| 80\.00 \| 70\.00 \|/);
  assert.ok(md.includes("| **all instances** | 4 | 68.65 | 55.70 |"));
});

Deno.test("formatTextReport() ends with the by-size table: a row per class, a column per bin", () => {
  const text = formatTextReport(REPORT);
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^class\s+<64\s+64-256\s+>=256$/.test(l));
  assert.ok(head > 0, text);
  assert.match(
    lines[head - 1]!,
    /^by object size \(long side of the ground-truth oriented box, px\)/,
  );
  const row = (name: string) => lines.slice(head).find((l) => l.startsWith(name + " "));
  assert.match(row("helicopter")!, /^helicopter\s+-\s+-\s+-$/);
  assert.match(row("small_vehicle")!, /^small_vehicle\s+80\.00 \(n=3\)\s+-\s+-$/);
  assert.match(row("plane")!, /^plane\s+-\s+34\.58 \(n=1\)\s+-$/);
  assert.match(row("mIoU (mean over classes)")!, /\s80\.00\s+34\.58\s+-$/);
  assert.match(row("mBIoU (mean over classes)")!, /\s70\.00\s+12\.79\s+-$/);
  assert.match(row("IoU, all instances")!, /\s80\.00 \(n=3\)\s+34\.58 \(n=1\)\s+-$/);
  assert.match(row("BIoU, all instances")!, /\s70\.00\s+12\.79\s+-$/);
  // the columns line up: every row of the table is as wide as the header
  const table = lines.slice(head, -1).filter((l) => !l.startsWith("-"));
  assert.equal(table.length, 1 + 3 + 4);
  for (const l of table) assert.equal(l.length, lines[head]!.length, l);
});

Deno.test("formatMarkdownReport() adds the by-size table", () => {
  const md = formatMarkdownReport(REPORT);
  assert.ok(md.includes("## By object size"));
  assert.ok(md.includes("| class | <64 | 64-256 | >=256 |\n|---|---:|---:|---:|\n"));
  assert.ok(md.includes("| small_vehicle | 80.00 (n=3) | - | - |"));
  assert.ok(md.includes("| plane | - | 34.58 (n=1) | - |"));
  assert.ok(md.includes("| **mIoU (mean over classes)** | 80.00 | 34.58 | - |"));
  assert.ok(md.includes("| **IoU, all instances** | 80.00 (n=3) | 34.58 (n=1) | - |"));
});

Deno.test("formatTextReport() and formatMarkdownReport() leave the table out without bins", () => {
  const bare = { ...REPORT, bySize: [] };
  assert.doesNotMatch(formatTextReport(bare), /by object size/);
  assert.doesNotMatch(formatMarkdownReport(bare), /By object size/);
});

Deno.test("formatJsonReport() round-trips the report", () => {
  assert.deepEqual(JSON.parse(formatJsonReport(REPORT)), REPORT);
});

Deno.test("formatJsonReport() writes bySize from an evaluation with its bins and numbers", async () => {
  const gt = parseCocoGt({
    images: [{ id: 1, file_name: "a.jpg", width: 128, height: 128 }],
    categories: [{ id: 1, name: "ship" }, { id: 2, name: "plane" }],
    annotations: [
      // long sides 8 and 80 px: rectangles, which obb-fill reproduces exactly
      { id: 1, image_id: 1, category_id: 1, segmentation: [[2, 2, 9, 2, 9, 6, 2, 6]], iscrowd: 0 },
      {
        id: 2,
        image_id: 1,
        category_id: 2,
        segmentation: [[10, 20, 89, 20, 89, 29, 10, 29]],
        iscrowd: 0,
      },
    ],
  });
  const { report } = await evaluate(gt, { baseline: "obb-fill" });
  const json = JSON.parse(formatJsonReport(report));
  assert.ok(Array.isArray(json.bySize));
  assert.deepEqual(
    json.bySize.map((b: SizeBin) => [b.name, b.minLongSide, b.maxLongSide]),
    [["<64", 0, 64], ["64-256", 64, 256], [">=256", 256, null]],
  );
  assert.deepEqual(json.bySize[0], {
    name: "<64",
    minLongSide: 0,
    maxLongSide: 64,
    classes: [
      { className: "plane", instances: 0, iou: null, boundaryIou: null },
      { className: "ship", instances: 1, iou: 1, boundaryIou: 1 },
    ],
    mIoU: 1,
    mBIoU: 1,
    all: { className: "all", instances: 1, iou: 1, boundaryIou: 1 },
  });
  assert.deepEqual(json.bySize[1].all, { className: "all", instances: 1, iou: 1, boundaryIou: 1 });
  assert.equal(json.bySize[2].all.instances, 0);
  assert.equal(json.bySize[2].mIoU, null);
  // the fields that were there before are unchanged
  assert.deepEqual(json.summary, report.summary);
  assert.equal(json.summary.all.instances, 2);
});
