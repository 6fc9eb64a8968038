/**
 * The affine map between the pixel frame and the model frame of a crop
 * (docs/CONTRACT.md): `model = (pixel - (x0, y0)) * inputSize / size`.
 *
 * @module
 */

import type { Point } from "./oriented_box.ts";
import type { Crop } from "./ram.ts";

/** Options for {@linkcode pixelToModel} and {@linkcode modelToPixel}. */
export interface FrameOptions {
  /** Side of the square model input, in model pixels. @default {256} */
  inputSize?: number;
}

function checkedInputSize(crop: Crop, options: FrameOptions, what: string): number {
  const inputSize = options.inputSize ?? 256;
  if (!(crop.size > 0) || !Number.isFinite(crop.size)) {
    throw new RangeError(`Cannot map ${what}: crop size ${crop.size} is not finite and > 0`);
  }
  if (!(inputSize > 0) || !Number.isFinite(inputSize)) {
    throw new RangeError(`Cannot map ${what}: input size ${inputSize} is not finite and > 0`);
  }
  return inputSize;
}

/**
 * Maps a continuous pixel-frame point into the continuous model frame of a
 * crop. No half-pixel shift: corners map to corners, centres to centres.
 *
 * @example Usage
 * ```ts
 * import { pixelToModel } from "./frames.ts";
 * import assert from "node:assert/strict";
 *
 * const crop = { x0: 100, y0: 200, size: 64 };
 * assert.deepEqual(pixelToModel({ x: 132, y: 216 }, crop), { x: 128, y: 64 });
 * ```
 *
 * @param p Point in the pixel frame.
 * @param crop The crop.
 * @param options Model input size.
 * @returns The point in the model frame.
 */
export function pixelToModel(p: Point, crop: Crop, options: FrameOptions = {}): Point {
  const n = checkedInputSize(crop, options, "a pixel point to the model frame");
  return { x: ((p.x - crop.x0) * n) / crop.size, y: ((p.y - crop.y0) * n) / crop.size };
}

/**
 * Maps a continuous model-frame point back into the pixel frame; the inverse
 * of {@linkcode pixelToModel}.
 *
 * @example Usage
 * ```ts
 * import { modelToPixel } from "./frames.ts";
 * import assert from "node:assert/strict";
 *
 * const crop = { x0: 100, y0: 200, size: 64 };
 * assert.deepEqual(modelToPixel({ x: 128, y: 64 }, crop), { x: 132, y: 216 });
 * ```
 *
 * @param p Point in the model frame.
 * @param crop The crop.
 * @param options Model input size.
 * @returns The point in the pixel frame.
 */
export function modelToPixel(p: Point, crop: Crop, options: FrameOptions = {}): Point {
  const n = checkedInputSize(crop, options, "a model point to the pixel frame");
  return { x: crop.x0 + (p.x * crop.size) / n, y: crop.y0 + (p.y * crop.size) / n };
}
