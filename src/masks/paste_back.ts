/**
 * Mask logits of one crop back into the image (docs/CONTRACT.md,
 * "Mask back to the image").
 *
 * @module
 */

import type { Crop } from "../geometry/ram.ts";
import type { MaskWindow } from "./mask_window.ts";

/** Options for {@linkcode pasteBack}. */
export interface PasteBackOptions {
  /** Side of the square logit map (the model input size). @default {256} */
  inputSize?: number;
  /** Width of the full image in pixels. */
  imageWidth: number;
  /** Height of the full image in pixels. */
  imageHeight: number;
  /** A pixel is foreground when its sampled logit is strictly greater. @default {0} */
  threshold?: number;
}

/**
 * Pastes a crop's mask logits (`float32[inputSize, inputSize]`, row-major) into
 * the image: every image pixel whose centre lies in the crop square
 * (`x0 <= i + 0.5 < x0 + size`, same for rows) and inside the image takes the
 * logit sampled bilinearly at its centre's model-frame position (model pixel
 * centres at `u + 0.5`, coordinates clamped to the map's border, i.e.
 * `grid_sample(..., padding_mode="border", align_corners=False)`), and is
 * foreground when that logit is `> threshold`.
 *
 * The result covers exactly those pixels (possibly 0 x 0 when the crop misses
 * the image).
 *
 * @example Usage
 * ```ts
 * import { pasteBack } from "./paste_back.ts";
 * import assert from "node:assert/strict";
 *
 * // 2 x 2 logits, only the top-left model pixel positive; a 4-pixel crop at (10, 10).
 * const logits = Float32Array.of(5, -5, -5, -5);
 * const m = pasteBack(logits, { x0: 10, y0: 10, size: 4 }, { inputSize: 2, imageWidth: 20, imageHeight: 20 });
 * assert.deepEqual([m.x0, m.y0, m.width, m.height], [10, 10, 4, 4]);
 * assert.deepEqual(Array.from(m.data), [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
 * ```
 *
 * @param logits `float32[inputSize, inputSize]` mask logits of the crop.
 * @param crop The crop the logits belong to, in the pixel frame.
 * @param options Model input size, image size and threshold.
 * @returns The mask over the crop's pixels inside the image.
 */
export function pasteBack(
  logits: Float32Array,
  crop: Crop,
  options: PasteBackOptions,
): MaskWindow {
  const { inputSize = 256, imageWidth, imageHeight, threshold = 0 } = options;
  const what = "Cannot paste logits back";
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new RangeError(`${what}: input size ${inputSize} is not a positive integer`);
  }
  if (logits.length !== inputSize * inputSize) {
    throw new RangeError(
      `${what}: got ${logits.length} logits, expected ${inputSize} x ${inputSize} = ${
        inputSize * inputSize
      }`,
    );
  }
  if (
    !Number.isInteger(imageWidth) || !Number.isInteger(imageHeight) || imageWidth < 0 ||
    imageHeight < 0
  ) {
    throw new RangeError(`${what}: image size ${imageWidth} x ${imageHeight} is invalid`);
  }
  const { x0, y0, size } = crop;
  if (!Number.isFinite(x0) || !Number.isFinite(y0) || !(size > 0) || !Number.isFinite(size)) {
    throw new RangeError(`${what}: crop (${x0}, ${y0}, ${size}) is not finite with size > 0`);
  }
  const i0 = Math.max(0, Math.ceil(x0 - 0.5));
  const i1 = Math.min(imageWidth, Math.ceil(x0 + size - 0.5));
  const j0 = Math.max(0, Math.ceil(y0 - 0.5));
  const j1 = Math.min(imageHeight, Math.ceil(y0 + size - 0.5));
  const width = Math.max(0, i1 - i0), height = Math.max(0, j1 - j0);
  const data = new Uint8Array(width * height);
  if (width === 0 || height === 0) {
    return {
      x0: Math.max(0, Math.min(i0, imageWidth)),
      y0: Math.max(0, Math.min(j0, imageHeight)),
      width,
      height,
      data,
    };
  }

  const n = inputSize, last = n - 1, s = n / size;
  // Per-column and per-row sample positions, computed once.
  const colLo = new Int32Array(width),
    colHi = new Int32Array(width),
    colW = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const f = Math.min(last, Math.max(0, (i0 + x + 0.5 - x0) * s - 0.5));
    const lo = Math.floor(f);
    colLo[x] = lo;
    colHi[x] = Math.min(lo + 1, last);
    colW[x] = f - lo;
  }
  for (let y = 0; y < height; y++) {
    const f = Math.min(last, Math.max(0, (j0 + y + 0.5 - y0) * s - 0.5));
    const lo = Math.floor(f);
    const wy = f - lo;
    const top = lo * n, bottom = Math.min(lo + 1, last) * n;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const a = colLo[x]!, b = colHi[x]!, wx = colW[x]!;
      const upper = logits[top + a]! * (1 - wx) + logits[top + b]! * wx;
      const lower = logits[bottom + a]! * (1 - wx) + logits[bottom + b]! * wx;
      if (upper * (1 - wy) + lower * wy > threshold) data[row + x] = 1;
    }
  }
  return { x0: i0, y0: j0, width, height, data };
}
