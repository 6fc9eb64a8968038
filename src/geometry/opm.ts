/**
 * Oriented prompt mechanism (OPM, METHOD.md section 3): three foreground
 * points on the long axis of an oriented box.
 *
 * @module
 */

import type { OrientedBox, Point } from "./oriented_box.ts";

/** The three OPM points, in the frame of the box. */
export interface OpmPoints {
  /** `(C + C1) / 2`: halfway to the short-side midpoint with the smaller x (ties: smaller y). */
  p1: Point;
  /** The box centre `C`. */
  c: Point;
  /** `(C + C2) / 2`: halfway to the other short-side midpoint. */
  p2: Point;
}

/** Relative tolerance under which two side lengths, or two x values, count as equal. */
const TIE = 1e-6;

/**
 * The OPM prompt points of an oriented box: the centre `C` and the points
 * halfway between `C` and the midpoints `C1`, `C2` of the two short sides.
 *
 * Determinism rules (docs/CONTRACT.md):
 * - the short sides are the `width` sides (those parallel to the direction
 *   `angle`) when `width <= height`, the `height` sides otherwise; for a
 *   square box (sides equal within 1e-6 relative) the `width` sides count as
 *   short, so the points lie along the `height` direction;
 * - `p1` is the point with the smaller x; when the two x values are equal
 *   within 1e-6 of the points' distance (a vertical axis), the one with the
 *   smaller y.
 *
 * @example Usage
 * ```ts
 * import { opmPoints } from "./opm.ts";
 * import assert from "node:assert/strict";
 *
 * // A horizontal 20 x 4 box centred at (50, 30): points along x.
 * const { p1, c, p2 } = opmPoints({ cx: 50, cy: 30, width: 20, height: 4, angle: 0 });
 * assert.deepEqual([p1, c, p2], [{ x: 45, y: 30 }, { x: 50, y: 30 }, { x: 55, y: 30 }]);
 * ```
 *
 * @param box An oriented box.
 * @returns The points, in the box's frame.
 */
export function opmPoints(box: OrientedBox): OpmPoints {
  const { cx, cy, width, height } = box;
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  const widthIsShort = width <= height ||
    Math.abs(width - height) <= TIE * Math.max(width, height);
  // Offset from C to C1 is half the long side along the long side's direction;
  // P1 is halfway, so a quarter.
  let dx: number, dy: number;
  if (widthIsShort) {
    // Short sides are parallel to the width: their midpoints lie along the height direction.
    dx = (-sin * height) / 4;
    dy = (cos * height) / 4;
  } else {
    dx = (cos * width) / 4;
    dy = (sin * width) / 4;
  }
  const a = { x: cx - dx, y: cy - dy };
  const b = { x: cx + dx, y: cy + dy };
  const tie = Math.abs(a.x - b.x) <= TIE * Math.hypot(a.x - b.x, a.y - b.y);
  const aFirst = tie ? a.y <= b.y : a.x < b.x;
  return { p1: aFirst ? a : b, c: { x: cx, y: cy }, p2: aFirst ? b : a };
}
