import assert from "node:assert/strict";
import { formatJsonReport, formatMarkdownReport, formatTextReport } from "../../src/eval/report.ts";
import type { EvalReport } from "../../src/eval/run_eval.ts";

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

Deno.test("formatJsonReport() round-trips the report", () => {
  assert.deepEqual(JSON.parse(formatJsonReport(REPORT)), REPORT);
});
