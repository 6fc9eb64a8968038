/**
 * Pure geometry for sopseg: oriented boxes and their conventions, the
 * minimum-area rectangle, OPM prompt points, RAM crops, the pixel/model frame
 * map and the decoder's prompt tensors. Frames are those of docs/CONTRACT.md.
 *
 * @example Usage
 * ```ts
 * import { enclosingHBox, orientedBoxFromCorners, promptTokens, ramCrop } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const box = orientedBoxFromCorners([
 *   { x: 10, y: 10 }, { x: 30, y: 10 }, { x: 30, y: 18 }, { x: 10, y: 18 },
 * ]);
 * const crop = ramCrop(enclosingHBox(box));
 * assert.equal(crop.size, 40);
 * const { labels } = promptTokens(box, crop);
 * assert.deepEqual(Array.from(labels), [1, 1, 1, 2, 3]);
 * ```
 *
 * @module
 */

export * from "./oriented_box.ts";
export * from "./min_area_rect.ts";
export * from "./opm.ts";
export * from "./ram.ts";
export * from "./frames.ts";
export * from "./prompt.ts";
export * from "./box_iou.ts";
