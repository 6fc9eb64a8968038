/**
 * A binary mask over an integer window of a full image, the currency of the
 * mask modules.
 *
 * @module
 */

/**
 * A binary mask over the integer pixel window `[x0, x0 + width) x
 * [y0, y0 + height)` of a full image. `data` is row-major, one byte per pixel,
 * 0 (background) or 1 (foreground); `data.length === width * height`.
 * `x0`, `y0` may be any integers (a window may hang over the image edge when
 * the caller allows it; the producers in this module never do).
 */
export interface MaskWindow {
  /** Column of the window's first pixel in the full image. */
  x0: number;
  /** Row of the window's first pixel in the full image. */
  y0: number;
  /** Window width in pixels (>= 0). */
  width: number;
  /** Window height in pixels (>= 0). */
  height: number;
  /** Row-major 0/1 pixels, `width * height` of them. */
  data: Uint8Array;
}

/**
 * An all-background mask window.
 *
 * @example Usage
 * ```ts
 * import { emptyMaskWindow } from "./mask_window.ts";
 * import assert from "node:assert/strict";
 *
 * const m = emptyMaskWindow({ x0: 4, y0: 2, width: 3, height: 2 });
 * assert.equal(m.data.length, 6);
 * ```
 *
 * @param window Position and size of the window (integers, sizes >= 0).
 * @returns A new window whose pixels are all 0.
 */
export function emptyMaskWindow(
  window: { x0: number; y0: number; width: number; height: number },
): MaskWindow {
  const { x0, y0, width, height } = window;
  if (!Number.isInteger(x0) || !Number.isInteger(y0)) {
    throw new RangeError(`Cannot create a mask window: origin (${x0}, ${y0}) is not integer`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(
      `Cannot create a mask window: size ${width} x ${height} is not a pair of integers >= 0`,
    );
  }
  return { x0, y0, width, height, data: new Uint8Array(width * height) };
}

/**
 * Number of foreground pixels.
 *
 * @example Usage
 * ```ts
 * import { maskArea } from "./mask_window.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(maskArea({ x0: 0, y0: 0, width: 2, height: 2, data: Uint8Array.of(1, 0, 1, 1) }), 3);
 * ```
 *
 * @param mask The mask.
 * @returns The count of non-zero pixels.
 */
export function maskArea(mask: MaskWindow): number {
  const { data } = mask;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  return n;
}

/**
 * Shrinks a window to the bounding box of its foreground (a 0 x 0 window at
 * the same origin when there is none). The pixels are copied.
 *
 * @example Usage
 * ```ts
 * import { trimMaskWindow } from "./mask_window.ts";
 * import assert from "node:assert/strict";
 *
 * const m = { x0: 10, y0: 20, width: 3, height: 3, data: Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0, 0) };
 * const t = trimMaskWindow(m);
 * assert.deepEqual([t.x0, t.y0, t.width, t.height], [11, 21, 2, 1]);
 * ```
 *
 * @param mask The mask.
 * @returns A new, tight window.
 */
export function trimMaskWindow(mask: MaskWindow): MaskWindow {
  assertMaskWindow(mask, "trim a mask window");
  const { width, data } = mask;
  const b = maskBounds(mask);
  if (b === null) return { x0: mask.x0, y0: mask.y0, width: 0, height: 0, data: new Uint8Array(0) };
  const minX = b.x0 - mask.x0, minY = b.y0 - mask.y0;
  const w = b.width, h = b.height;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const src = (y + minY) * width + minX;
    for (let x = 0; x < w; x++) out[y * w + x] = data[src + x] !== 0 ? 1 : 0;
  }
  return { x0: mask.x0 + minX, y0: mask.y0 + minY, width: w, height: h, data: out };
}

/** The foreground's bounding box in image pixels and its pixel count. */
export interface MaskBounds {
  /** Left column of the box, image frame. */
  x0: number;
  /** Top row of the box, image frame. */
  y0: number;
  width: number;
  height: number;
  /** Number of foreground pixels. */
  area: number;
}

/**
 * The bounding box and area of a window's foreground, or `null` when it is empty.
 *
 * @example Usage
 * ```ts
 * import { maskBounds } from "./mask_window.ts";
 * import assert from "node:assert/strict";
 *
 * const m = { x0: 10, y0: 20, width: 3, height: 2, data: Uint8Array.of(0, 1, 1, 0, 1, 0) };
 * assert.deepEqual(maskBounds(m), { x0: 11, y0: 20, width: 2, height: 2, area: 3 });
 * ```
 *
 * @param mask The mask.
 * @returns Its foreground bounds, or null.
 */
export function maskBounds(mask: MaskWindow): MaskBounds | null {
  const { width, height, data } = mask;
  let minX = width, minY = height, maxX = -1, maxY = -1, area = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] !== 0) {
        area++;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        maxY = y;
      }
    }
  }
  if (maxX < 0) return null;
  return {
    x0: mask.x0 + minX,
    y0: mask.y0 + minY,
    width: maxX - minX + 1,
    height: maxY - minY + 1,
    area,
  };
}

/**
 * Throws a `RangeError` naming `what` when a window's fields are inconsistent.
 *
 * @example Usage
 * ```ts
 * import { assertMaskWindow } from "./mask_window.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => assertMaskWindow({ x0: 0, y0: 0, width: 2, height: 2, data: new Uint8Array(3) }, "trace"),
 *   /Cannot trace: data has 3 pixels, expected 2 x 2 = 4/,
 * );
 * ```
 *
 * @param mask The window to check.
 * @param what What the caller was about to do ("Cannot <what>: ...").
 */
export function assertMaskWindow(mask: MaskWindow, what: string): void {
  const { x0, y0, width, height, data } = mask;
  if (!Number.isInteger(x0) || !Number.isInteger(y0)) {
    throw new RangeError(`Cannot ${what}: window origin (${x0}, ${y0}) is not integer`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`Cannot ${what}: window size ${width} x ${height} is invalid`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height) {
    throw new RangeError(
      `Cannot ${what}: data has ${data?.length} pixels, expected ${width} x ${height} = ${
        width * height
      }`,
    );
  }
}
