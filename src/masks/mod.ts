/**
 * Pure mask handling for sopseg: logits pasted back into the image,
 * connected-component clean-up, pixel-edge polygons and their
 * simplification, polygon rasterisation (centre and OpenCV-inclusive rules)
 * and COCO compressed RLE.
 *
 * @example Usage
 * ```ts
 * import { encodeRle, rasterizePolygon, rleArea, traceMask } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const mask = { x0: 2, y0: 1, width: 2, height: 2, data: Uint8Array.of(1, 1, 0, 1) };
 * const polys = traceMask(mask);
 * const back = rasterizePolygon(polys[0]!, { x0: 2, y0: 1, width: 2, height: 2, rule: "center" });
 * assert.deepEqual(back.data, mask.data);
 * assert.equal(rleArea(encodeRle(mask, 8, 8)), 3);
 * ```
 *
 * @module
 */

export * from "./mask_window.ts";
export * from "./paste_back.ts";
export * from "./components.ts";
export * from "./polygon.ts";
export * from "./rasterize.ts";
export * from "./rle.ts";
