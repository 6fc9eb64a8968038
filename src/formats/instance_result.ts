/**
 * The result for one detection, as the writers take it.
 *
 * @module
 */

import type { Polygon } from "../masks/polygon.ts";
import type { Rle } from "../masks/rle.ts";
import type { Detection } from "./detection.ts";

/**
 * One instance mask produced from one detection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { InstanceResult } from "./instance_result.ts";
 *
 * const result: InstanceResult = {
 *   detectionIndex: 0,
 *   detection: {
 *     box: { cx: 2, cy: 2, width: 2, height: 2, angle: 0 },
 *     className: "ship",
 *     score: 0.9,
 *     difficult: false,
 *     source: "P0001.txt",
 *     line: 3,
 *   },
 *   polygons: [[[{ x: 1, y: 1 }, { x: 1, y: 3 }, { x: 3, y: 3 }, { x: 3, y: 1 }]]],
 *   rle: { size: [4, 4], counts: "52203" },
 *   area: 4,
 *   bbox: [1, 1, 2, 2],
 *   predictedIou: 0.95,
 * };
 * assert.equal(result.polygons.length, 1);
 * ```
 */
export interface InstanceResult {
  /** Index of the detection in its image's detection list (0-based, file order). */
  detectionIndex: number;
  /** The detection that prompted the mask. */
  detection: Detection;
  /** The mask's outline, pixel frame; one polygon per connected part, outer ring then holes. */
  polygons: Polygon[];
  /** The mask as COCO compressed RLE over the full image (`size: [height, width]`). */
  rle: Rle;
  /** Mask area in pixels. */
  area: number;
  /** The mask's bounding box `[x, y, width, height]` in pixels (COCO order). */
  bbox: [number, number, number, number];
  /** The model's predicted IoU for the mask. */
  predictedIou: number;
  /**
   * Whether the detection's class is one the model was trained on (its manifest's `classes`);
   * absent when unknown (the manifest lists none, or the class is a bare number or empty).
   */
  inTrainingClasses?: boolean;
  /**
   * With the box search (`--box-search`, the server's `options.box_search`): whether the mask
   * is a moved box's (`false`: the given box's); absent for a box the search did not run on
   * (no search, a crop on the small graphs, a box outside the image). Written as `box_moved`.
   */
  boxMoved?: boolean;
}
