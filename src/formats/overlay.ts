/**
 * Draws mask outlines and prompt boxes onto an RGB buffer, for quick-look
 * overlays (the caller encodes the buffer, e.g. as PNG).
 *
 * @module
 */

import { boxCorners, type OrientedBox, type Point } from "../geometry/oriented_box.ts";
import type { Polygon } from "../masks/polygon.ts";

/** An RGB image buffer, row-major, 3 bytes per pixel, modified in place. */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes, RGB interleaved. */
  data: Uint8Array;
}

/** Options for {@linkcode drawPolygonOutlines} and {@linkcode drawBoxOutline}. */
export interface OutlineOptions {
  /** Line colour. Default: `[255, 0, 0]`. */
  color?: readonly [number, number, number];
  /** Opacity in `[0, 1]`; 1 replaces the pixel. Default: `1`. */
  alpha?: number;
  /**
   * Pixel-frame position of the buffer's top-left corner, for a buffer that
   * holds a window of a larger image. Default: `{ x: 0, y: 0 }`.
   */
  origin?: Point;
}

function checkImage(image: RgbImage) {
  const { width, height, data } = image;
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 ||
    data.length !== width * height * 3
  ) {
    throw new RangeError(
      `Cannot draw on the image: ${width}x${height} RGB needs ${
        width * height * 3
      } bytes, got ${data.length}`,
    );
  }
}

/** Draws one closed ring; `seen` keeps each pixel from being blended twice in one call. */
function drawRing(
  image: RgbImage,
  ring: readonly Point[],
  options: OutlineOptions,
  seen: Set<number>,
) {
  const { color = [255, 0, 0], alpha = 1, origin = { x: 0, y: 0 } } = options;
  const { width, height, data } = image;
  const a = Math.min(1, Math.max(0, alpha));
  const plot = (x: number, y: number) => {
    const col = Math.floor(x - origin.x), row = Math.floor(y - origin.y);
    if (col < 0 || row < 0 || col >= width || row >= height) return;
    const k = (row * width + col) * 3;
    if (seen.has(k)) return;
    seen.add(k);
    for (let c = 0; c < 3; c++) {
      data[k + c] = Math.round((data[k + c] ?? 0) * (1 - a) + (color[c] ?? 0) * a);
    }
  };
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const p = ring[i] as Point, q = ring[(i + 1) % n] as Point;
    // Sample at most half a pixel apart so that no pixel on the segment is skipped.
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(q.x - p.x), Math.abs(q.y - p.y)) * 2));
    for (let s = 0; s < steps; s++) {
      const t = s / steps;
      plot(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t);
    }
  }
}

/**
 * Draws the rings (outer and holes) of polygons in the pixel frame, one pixel
 * wide, onto an RGB buffer in place. A vertex on pixel edge `x` colours the
 * pixel whose left edge it is (`floor`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawPolygonOutlines } from "./overlay.ts";
 *
 * const image = { width: 4, height: 4, data: new Uint8Array(4 * 4 * 3) };
 * const square = [{ x: 1, y: 1 }, { x: 3, y: 1 }, { x: 3, y: 3 }, { x: 1, y: 3 }];
 * drawPolygonOutlines(image, [[square]], { color: [0, 255, 0] });
 * assert.deepEqual([...image.data.subarray((1 * 4 + 1) * 3, (1 * 4 + 1) * 3 + 3)], [0, 255, 0]);
 * assert.equal(image.data[0], 0); // pixel (0, 0) untouched
 * ```
 *
 * @param image The buffer, modified in place.
 * @param polygons Polygons in the pixel frame.
 * @param options Colour, opacity and the buffer's origin.
 */
export function drawPolygonOutlines(
  image: RgbImage,
  polygons: readonly Polygon[],
  options: OutlineOptions = {},
): void {
  checkImage(image);
  const seen = new Set<number>();
  for (const polygon of polygons) {
    for (const ring of polygon) drawRing(image, ring, options, seen);
  }
}

/**
 * Draws an oriented box's outline (pixel frame) onto an RGB buffer in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawBoxOutline } from "./overlay.ts";
 *
 * const image = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
 * drawBoxOutline(image, { cx: 4, cy: 4, width: 4, height: 2, angle: 0 }, { alpha: 0.5 });
 * assert.equal(image.data[(3 * 8 + 2) * 3], 128); // top-left corner pixel, half red
 * ```
 *
 * @param image The buffer, modified in place.
 * @param box The box, pixel frame.
 * @param options Colour, opacity and the buffer's origin.
 */
export function drawBoxOutline(
  image: RgbImage,
  box: OrientedBox,
  options: OutlineOptions = {},
): void {
  checkImage(image);
  drawRing(image, boxCorners(box), options, new Set());
}
