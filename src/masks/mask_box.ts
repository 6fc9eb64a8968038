/**
 * The oriented box of a mask, made as the evaluation makes a GT instance's box
 * (`gtInstances`): the minimum-area rectangle of the set pixels' indices, grown by
 * half a pixel per side (pixel (i, j) covers [i, i + 1) x [j, j + 1)). A second pass
 * prompted with it reads the object's extent from the first mask instead of the
 * detector's box (`refinePasses` of the evaluation).
 *
 * @module
 */
import { minAreaRect } from "../geometry/min_area_rect.ts";
import type { OrientedBox, Point } from "../geometry/oriented_box.ts";
import type { MaskWindow } from "./mask_window.ts";

/**
 * The minimum-area rectangle of the set pixels' indices grown by half a pixel per side,
 * or `null` for an empty mask. Only each row's first and last set pixels can be on the
 * hull, so those give the points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskBox } from "./mask_box.ts";
 *
 * // a 3 x 2 block of pixels at columns 4-6, rows 10-11
 * const data = new Uint8Array(8 * 2);
 * for (const r of [0, 1]) data.fill(1, r * 8 + 4, r * 8 + 7);
 * const b = maskBox({ x0: 0, y0: 10, width: 8, height: 2, data })!;
 * assert.ok(Math.abs(b.cx - 5.5) < 1e-9 && Math.abs(b.cy - 11) < 1e-9);
 * assert.ok(Math.abs(b.width * b.height - 6) < 1e-9);
 * ```
 */
export function maskBox(mask: MaskWindow): OrientedBox | null {
  const points: Point[] = [];
  const { width, height, data } = mask;
  for (let r = 0; r < height; r++) {
    const row = r * width;
    let first = -1, last = -1;
    for (let c = 0; c < width; c++) {
      if (data[row + c] === 1) {
        if (first < 0) first = c;
        last = c;
      }
    }
    if (first < 0) continue;
    const y = mask.y0 + r;
    points.push({ x: mask.x0 + first, y }, { x: mask.x0 + last, y });
  }
  if (points.length === 0) return null;
  const b = minAreaRect(points);
  return { ...b, cx: b.cx + 0.5, cy: b.cy + 0.5, width: b.width + 1, height: b.height + 1 };
}
