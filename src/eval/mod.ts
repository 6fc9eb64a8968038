/**
 * Evaluation of instance masks against COCO ground truth (METHOD.md
 * section 6): GT loading with the project's pixel conventions, IoU and
 * Boundary IoU, per-class and overall means, prompt baselines, seeded
 * prompt noise, seeded image degradation, scores by object size, reports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluate, formatTextReport, parseCocoGt } from "./mod.ts";
 *
 * const gt = parseCocoGt({
 *   images: [{ id: 1, file_name: "a.jpg", width: 32, height: 32 }],
 *   categories: [{ id: 1, name: "ship" }],
 *   annotations: [
 *     { id: 1, image_id: 1, category_id: 1, segmentation: [[4, 4, 12, 4, 12, 8, 4, 8]], iscrowd: 0 },
 *   ],
 * });
 * const { report } = await evaluate(gt, { baseline: "hbox-fill" });
 * assert.match(formatTextReport(report), /ship/);
 * ```
 *
 * @module
 */

export * from "./accumulator.ts";
export * from "./baselines.ts";
export * from "./class_map.ts";
export * from "./coco_gt.ts";
export * from "./image_degrade.ts";
export * from "./metrics.ts";
export * from "./prompt_noise.ts";
export * from "./report.ts";
export * from "./run_eval.ts";
export * from "./size_bins.ts";
