/**
 * Region-adaptive magnification (RAM, METHOD.md section 2): the square crop
 * around an object, sized from the object.
 *
 * @module
 */

import type { HBox } from "./oriented_box.ts";

/** A square crop in the continuous pixel frame; nothing is rounded. */
export interface Crop {
  /** Left edge. */
  x0: number;
  /** Top edge. */
  y0: number;
  /** Side length (> 0). */
  size: number;
}

/** Parameters of the crop-side law. */
export interface RamSideOptions {
  /** Object size below which the crop is `k0 * d`. @default {32} */
  m?: number;
  /** Magnification of small objects (crop side / object size). @default {2} */
  k0?: number;
  /** Object size at which the crop side equals the object size. @default {1024} */
  sMax?: number;
  /** Smallest crop side. @default {8} */
  sMin?: number;
  /**
   * Smallest crop side as a multiple of the object size: `S >= context * d`. 1 (METHOD.md)
   * lets a large object's crop hug its box. @default {1}
   */
  context?: number;
}

/** Options for {@linkcode ramCrop}. */
export interface RamCropOptions extends RamSideOptions {
  /** Where the object sits horizontally in the crop, 0 (left) to 1 (right). @default {0.5} */
  ax?: number;
  /** Where the object sits vertically in the crop, 0 (top) to 1 (bottom). @default {0.5} */
  ay?: number;
}

/**
 * The crop side `S` for an object of size `d`:
 * `S = k0 * d` for `d < m`, else `S = k * d + (k0 - k) * m` with
 * `k = (sMax - k0 * m) / (sMax - m)`; then `S = max(S, context * d)` (objects past
 * `sMax` are not cut; `context` 1 unless given) and `S = max(S, sMin)`.
 *
 * @example Usage
 * ```ts
 * import { ramSide } from "./ram.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ramSide(8), 16);
 * assert.equal(ramSide(32), 64);
 * assert.equal(ramSide(1024), 1024);
 * assert.equal(ramSide(2000), 2000);
 * assert.equal(ramSide(1), 8);
 * // a 200 px object: about 27 px of context by the law, 60 px with context 1.3
 * assert.equal(Math.round(ramSide(200)), 227);
 * assert.equal(ramSide(200, { context: 1.3 }), 260);
 * ```
 *
 * @param d Object size in pixels (finite, >= 0).
 * @param options Law parameters.
 * @returns The crop side in pixels.
 */
export function ramSide(d: number, options: RamSideOptions = {}): number {
  const { m = 32, k0 = 2, sMax = 1024, sMin = 8, context = 1 } = options;
  if (!(Number.isFinite(d) && d >= 0)) {
    throw new RangeError(
      `Cannot compute the RAM crop side: object size ${d} is not finite and >= 0`,
    );
  }
  if (!(context >= 1 && Number.isFinite(context))) {
    throw new RangeError(
      `Cannot compute the RAM crop side: context ${context} is not a finite number >= 1`,
    );
  }
  if (!(m > 0 && k0 > 0 && sMax > m && Number.isFinite(sMax) && sMin >= 0)) {
    throw new RangeError(
      `Cannot compute the RAM crop side: need m > 0, k0 > 0, finite sMax > m, sMin >= 0; ` +
        `got m=${m}, k0=${k0}, sMax=${sMax}, sMin=${sMin}`,
    );
  }
  let s: number;
  if (d < m) {
    s = k0 * d;
  } else {
    const k = (sMax - k0 * m) / (sMax - m);
    s = k * d + (k0 - k) * m;
  }
  return Math.max(s, context * d, sMin);
}

/**
 * The RAM crop for an object's horizontal box: side `S = ramSide(max(w, h))`,
 * origin `x0 = x - ax * (S - w)`, `y0 = y - ay * (S - h)`. The crop may
 * extend past the image (that part is padding).
 *
 * @example Usage
 * ```ts
 * import { ramCrop } from "./ram.ts";
 * import assert from "node:assert/strict";
 *
 * // A 16 x 8 object at (100, 50): d = 16, S = 32, centred.
 * assert.deepEqual(ramCrop({ x0: 100, y0: 50, x1: 116, y1: 58 }), { x0: 92, y0: 38, size: 32 });
 * ```
 *
 * @param hbox The horizontal box in the pixel frame.
 * @param options Placement and law parameters.
 * @returns The crop in the pixel frame.
 */
export function ramCrop(hbox: HBox, options: RamCropOptions = {}): Crop {
  const { ax = 0.5, ay = 0.5 } = options;
  const w = hbox.x1 - hbox.x0, h = hbox.y1 - hbox.y0;
  if (!Number.isFinite(hbox.x0) || !Number.isFinite(hbox.y0) || !(w >= 0) || !(h >= 0)) {
    throw new RangeError(
      `Cannot compute a RAM crop: box [${hbox.x0}, ${hbox.y0}, ${hbox.x1}, ${hbox.y1}] is not finite with x1 >= x0, y1 >= y0`,
    );
  }
  if (!Number.isFinite(ax) || !Number.isFinite(ay)) {
    throw new RangeError(`Cannot compute a RAM crop: anchors (${ax}, ${ay}) are not finite`);
  }
  const size = ramSide(Math.max(w, h), options);
  return { x0: hbox.x0 - ax * (size - w), y0: hbox.y0 - ay * (size - h), size };
}
