/**
 * Mask IoU and Boundary IoU (Cheng et al. 2021) on mask windows, as
 * `../shared/docs/METHOD.md` section 6 defines them.
 *
 * Both metrics see only the pixels inside the image: a window that reaches
 * past the image border is clipped, which is the "image padded with zeros"
 * of the definition. Both metrics are `1` when both masks are empty (nothing
 * to disagree about) and `0` when exactly one is empty. Every function works
 * on the windows' own extent (each band on its mask's window, treating the
 * outside as background, which is exact), never on the
 * whole image, so an instance costs in proportion to its size.
 *
 * @module
 */

import { assertMaskWindow, type MaskWindow } from "../masks/mask_window.ts";

/** Default ratio of the image diagonal used as the Boundary IoU band width. */
export const DEFAULT_DILATION_RATIO = 0.005;

/** Options for {@linkcode boundaryDilation}. */
export interface BoundaryDilationOptions {
  /** Band width as a fraction of the image diagonal. Default: `0.005` (METHOD.md). */
  dilationRatio?: number;
}

/**
 * The Boundary IoU band width in pixels:
 * `max(1, round(dilationRatio * sqrt(width^2 + height^2)))`.
 *
 * `Math.round` rounds halves up where Python's `round` rounds them to even;
 * the two differ only when `ratio * diagonal` is exactly `k + 0.5`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundaryDilation } from "./metrics.ts";
 *
 * assert.equal(boundaryDilation(512, 512), 4); // round(0.005 * 724.08)
 * assert.equal(boundaryDilation(100, 100), 1);
 * ```
 */
export function boundaryDilation(
  imageWidth: number,
  imageHeight: number,
  options: BoundaryDilationOptions = {},
): number {
  const ratio = options.dilationRatio ?? DEFAULT_DILATION_RATIO;
  if (!(imageWidth > 0) || !(imageHeight > 0)) {
    throw new RangeError(
      `Cannot compute the boundary dilation: image size ${imageWidth}x${imageHeight} is not positive`,
    );
  }
  if (!(ratio >= 0) || !Number.isFinite(ratio)) {
    throw new RangeError(
      `Cannot compute the boundary dilation: dilation ratio ${ratio} is not a finite number >= 0`,
    );
  }
  return Math.max(1, Math.round(ratio * Math.hypot(imageWidth, imageHeight)));
}

/** Options for the functions that need the image extent. */
export interface ImageExtentOptions {
  /** Image width in pixels; pixels at `x >= imageWidth` are outside the image. */
  imageWidth: number;
  /** Image height in pixels; pixels at `y >= imageHeight` are outside the image. */
  imageHeight: number;
}

/** Options for {@linkcode boundaryIou}, {@linkcode maskScores} and {@linkcode boundaryBand}. */
export interface BoundaryOptions extends ImageExtentOptions {
  /** Band width as a fraction of the image diagonal. Default: `0.005` (METHOD.md). */
  dilationRatio?: number;
  /** Band width in pixels; overrides `dilationRatio` when given. */
  dilation?: number;
}

/** Both scores of one predicted mask against its ground truth. */
export interface MaskScores {
  /** Mask IoU, 0..1. */
  iou: number;
  /** Boundary IoU, 0..1. */
  boundaryIou: number;
}

/** The window clipped to the image, in image coordinates: `[x0, y0, x1, y1)`. */
type Rect = [number, number, number, number];

function checkWindow(mask: MaskWindow, what: string): void {
  assertMaskWindow(mask, `score ${what}`);
}

function checkImage(options: ImageExtentOptions): void {
  const { imageWidth, imageHeight } = options;
  if (
    !Number.isInteger(imageWidth) || !Number.isInteger(imageHeight) || imageWidth <= 0 ||
    imageHeight <= 0
  ) {
    throw new RangeError(
      `Cannot score masks: image size ${imageWidth}x${imageHeight} is not made of positive integers`,
    );
  }
}

/** The part of the window that lies inside the image (may be empty). */
function clipRect(mask: MaskWindow, imageWidth: number, imageHeight: number): Rect {
  return [
    Math.max(mask.x0, 0),
    Math.max(mask.y0, 0),
    Math.min(mask.x0 + mask.width, imageWidth),
    Math.min(mask.y0 + mask.height, imageHeight),
  ];
}

/** Pixels set in `mask` inside `rect`. */
function countIn(mask: MaskWindow, rect: Rect): number {
  let n = 0;
  const [x0, y0, x1, y1] = rect;
  for (let y = y0; y < y1; y++) {
    const row = (y - mask.y0) * mask.width - mask.x0;
    for (let x = x0; x < x1; x++) if (mask.data[row + x]) n++;
  }
  return n;
}

/** Pixels set in both masks, inside `rect`. */
function countBoth(a: MaskWindow, b: MaskWindow, rect: Rect): number {
  const [x0, y0, x1, y1] = [
    Math.max(rect[0], a.x0, b.x0),
    Math.max(rect[1], a.y0, b.y0),
    Math.min(rect[2], a.x0 + a.width, b.x0 + b.width),
    Math.min(rect[3], a.y0 + a.height, b.y0 + b.height),
  ];
  let n = 0;
  for (let y = y0; y < y1; y++) {
    const ra = (y - a.y0) * a.width - a.x0;
    const rb = (y - b.y0) * b.width - b.x0;
    for (let x = x0; x < x1; x++) if (a.data[ra + x] && b.data[rb + x]) n++;
  }
  return n;
}

function ratio(intersection: number, union: number): number {
  return union === 0 ? 1 : intersection / union;
}

/**
 * Intersection over union of two masks, counting only pixels inside the image.
 * `1` when both masks are empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskIou } from "./metrics.ts";
 *
 * // two 2x2 squares overlapping in one column
 * const a = { x0: 0, y0: 0, width: 2, height: 2, data: new Uint8Array([1, 1, 1, 1]) };
 * const b = { x0: 1, y0: 0, width: 2, height: 2, data: new Uint8Array([1, 1, 1, 1]) };
 * assert.equal(maskIou(a, b, { imageWidth: 8, imageHeight: 8 }), 2 / 6);
 * ```
 */
export function maskIou(a: MaskWindow, b: MaskWindow, options: ImageExtentOptions): number {
  checkWindow(a, "mask a");
  checkWindow(b, "mask b");
  checkImage(options);
  const { imageWidth, imageHeight } = options;
  const ra = clipRect(a, imageWidth, imageHeight);
  const rb = clipRect(b, imageWidth, imageHeight);
  const areaA = countIn(a, ra);
  const areaB = countIn(b, rb);
  const inter = countBoth(a, b, [0, 0, imageWidth, imageHeight]);
  return ratio(inter, areaA + areaB - inter);
}

/**
 * The boundary band of a mask: the mask minus its erosion by a 3x3 kernel
 * applied `dilation` times (equivalently one `(2d+1) x (2d+1)` square), where
 * everything outside the image counts as background. The result covers the
 * input window clipped to the image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundaryBand } from "./metrics.ts";
 *
 * const square = { x0: 0, y0: 0, width: 5, height: 5, data: new Uint8Array(25).fill(1) };
 * const band = boundaryBand(square, { imageWidth: 100, imageHeight: 100, dilation: 1 });
 * // a 5x5 square keeps its 3x3 core out of the band
 * assert.equal(band.data.reduce((s, v) => s + v, 0), 25 - 9);
 * ```
 */
export function boundaryBand(mask: MaskWindow, options: BoundaryOptions): MaskWindow {
  checkWindow(mask, "mask");
  checkImage(options);
  return bandOf(mask, resolveDilation(options), options);
}

function resolveDilation(options: BoundaryOptions): number {
  if (options.dilation !== undefined) {
    if (!Number.isInteger(options.dilation) || options.dilation < 1) {
      throw new RangeError(
        `Cannot compute a boundary band: dilation ${options.dilation} is not an integer >= 1`,
      );
    }
    return options.dilation;
  }
  return boundaryDilation(options.imageWidth, options.imageHeight, options);
}

function bandOf(mask: MaskWindow, d: number, image: ImageExtentOptions): MaskWindow {
  const [x0, y0, x1, y1] = clipRect(mask, image.imageWidth, image.imageHeight);
  const w = Math.max(0, x1 - x0);
  const h = Math.max(0, y1 - y0);
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const src = (y + y0 - mask.y0) * mask.width + (x0 - mask.x0);
    for (let x = 0; x < w; x++) m[y * w + x] = mask.data[src + x] ? 1 : 0;
  }
  // Horizontal pass: hor[p] = 1 when the row run through p covers [x-d, x+d] inside the window
  // (outside the window is background, so a run touching the window edge ends there).
  const hor = new Uint8Array(w * h);
  const left = new Int32Array(w); // length of the run of ones ending at x
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let run = 0;
    for (let x = 0; x < w; x++) {
      run = m[row + x] ? run + 1 : 0;
      left[x] = run;
    }
    run = 0;
    for (let x = w - 1; x >= 0; x--) {
      run = m[row + x] ? run + 1 : 0; // run of ones starting at x
      if (run > d && (left[x] ?? 0) > d) hor[row + x] = 1;
    }
  }
  // Vertical pass on hor, same rule; the band is m minus the eroded pixels.
  const up = new Int32Array(h);
  for (let x = 0; x < w; x++) {
    let run = 0;
    for (let y = 0; y < h; y++) {
      run = hor[y * w + x] ? run + 1 : 0;
      up[y] = run;
    }
    run = 0;
    for (let y = h - 1; y >= 0; y--) {
      const i = y * w + x;
      run = hor[i] ? run + 1 : 0;
      if (run > d && (up[y] ?? 0) > d) m[i] = 0;
    }
  }
  return { x0, y0, width: w, height: h, data: m };
}

/**
 * Boundary IoU of two masks: the IoU of their boundary bands (see
 * {@linkcode boundaryBand}); the band width is
 * {@linkcode boundaryDilation} of the image unless `dilation` is given.
 * `1` when both masks are empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundaryIou } from "./metrics.ts";
 *
 * const a = { x0: 10, y0: 10, width: 9, height: 9, data: new Uint8Array(81).fill(1) };
 * assert.equal(boundaryIou(a, a, { imageWidth: 512, imageHeight: 512 }), 1);
 * ```
 */
export function boundaryIou(a: MaskWindow, b: MaskWindow, options: BoundaryOptions): number {
  return maskScores(a, b, options).boundaryIou;
}

/**
 * IoU and Boundary IoU of a predicted mask against its ground truth in one
 * call (the evaluation's per-instance step).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskScores } from "./metrics.ts";
 *
 * const a = { x0: 0, y0: 0, width: 4, height: 4, data: new Uint8Array(16).fill(1) };
 * const empty = { x0: 0, y0: 0, width: 0, height: 0, data: new Uint8Array(0) };
 * assert.deepEqual(maskScores(a, empty, { imageWidth: 64, imageHeight: 64 }), {
 *   iou: 0,
 *   boundaryIou: 0,
 * });
 * ```
 */
export function maskScores(a: MaskWindow, b: MaskWindow, options: BoundaryOptions): MaskScores {
  const iou = maskIou(a, b, options);
  const d = resolveDilation(options);
  const ba = bandOf(a, d, options);
  const bb = bandOf(b, d, options);
  return { iou, boundaryIou: maskIou(ba, bb, options) };
}
