/**
 * Oriented boxes in the pixel frame: construction from centre/size/angle in
 * the angle conventions that detectors use, from four corners (DOTA quads),
 * and the derived corners and enclosing horizontal box.
 *
 * @module
 */

import { normalizeHalfTurn } from "./_angle.ts";
import { minAreaRect } from "./min_area_rect.ts";

/** A point in a continuous frame (pixel frame unless the name says otherwise). */
export interface Point {
  /** Horizontal coordinate, growing to the right. */
  x: number;
  /** Vertical coordinate, growing downwards. */
  y: number;
}

/**
 * An oriented box in the continuous pixel frame (pixel (i, j) covers
 * `[i, i+1) x [j, j+1)`, y down).
 *
 * `angle` is in radians, the direction of the `width` side measured from +x
 * towards +y (clockwise on screen, since y points down), normalised to
 * `[-pi/2, pi/2)`. The `height` side is perpendicular to it. `width` is not
 * necessarily the longer side.
 */
export interface OrientedBox {
  /** Centre, x. */
  cx: number;
  /** Centre, y. */
  cy: number;
  /** Length of the side whose direction is `angle` (>= 0). */
  width: number;
  /** Length of the other side (>= 0). */
  height: number;
  /** Direction of the width side in radians, in `[-pi/2, pi/2)`. */
  angle: number;
}

/** A horizontal box `[x0, x1] x [y0, y1]` in the continuous pixel frame. */
export interface HBox {
  /** Left edge. */
  x0: number;
  /** Top edge. */
  y0: number;
  /** Right edge (>= x0). */
  x1: number;
  /** Bottom edge (>= y0). */
  y1: number;
}

/**
 * How the `angle` given to {@linkcode orientedBoxFromCenter} is to be read.
 * In every convention the angle is the direction of the `width` side, measured
 * from +x towards +y in the y-down pixel frame (clockwise on screen), as in
 * mmrotate 1.x (`x + w/2 * (cos a, sin a)` is the midpoint of a height side).
 *
 * - `"radians"`: any finite angle in radians.
 * - `"degrees"`: any finite angle in degrees.
 * - `"oc"`: mmrotate's OpenCV convention, radians in `[-pi/2, 0)` (mmrotate
 *   1.x: `regularize_boxes("oc")`) or in `(0, pi/2]` (mmrotate 0.x); the box is
 *   the same either way, so both ranges are taken.
 * - `"le90"`: mmrotate's long-edge convention, radians in `[-pi/2, pi/2)`
 *   (mmrotate also keeps `width >= height`; not required here).
 * - `"le135"`: mmrotate's long-edge convention, radians in `[-pi/4, 3pi/4)`
 *   (again with `width >= height` in mmrotate).
 *
 * The three mmrotate names only fix the range, which is checked (with a
 * tolerance of 1e-6 rad at both ends), so that an angle in degrees handed over
 * as radians fails loudly instead of producing a wrong box.
 */
export type AngleConvention = typeof ANGLE_CONVENTIONS[number];

/** Every {@linkcode AngleConvention}, for option parsers and messages. */
export const ANGLE_CONVENTIONS = ["radians", "degrees", "oc", "le90", "le135"] as const;

/** Options for {@linkcode orientedBoxFromCenter}. */
export interface OrientedBoxFromCenterOptions {
  /** Length of the side whose direction is `angle` (finite, >= 0). */
  width: number;
  /** Length of the other side (finite, >= 0). */
  height: number;
  /** Direction of the width side, read as `convention` says. @default {0} */
  angle?: number;
  /** How `angle` is to be read. @default {"radians"} */
  convention?: AngleConvention;
}

const RANGE_TOLERANCE = 1e-6;

const CONVENTION_RANGES: Record<"oc" | "le90" | "le135", [number, number, string]> = {
  oc: [-Math.PI / 2, Math.PI / 2, "[-pi/2, 0) (mmrotate 1.x) or (0, pi/2] (0.x)"],
  le90: [-Math.PI / 2, Math.PI / 2, "[-pi/2, pi/2)"],
  le135: [-Math.PI / 4, (3 * Math.PI) / 4, "[-pi/4, 3pi/4)"],
};

/**
 * The largest pixel coordinate a box may reach, far past any image (a
 * hundred million pixels), so that areas, tolerances and reprojection stay
 * finite and exact.
 */
const MAX_COORDINATE = 1e8;

/**
 * Builds an oriented box from its centre, side lengths and angle. The angle is
 * normalised to `[-pi/2, pi/2)`; width and height keep their meaning.
 *
 * @example Usage
 * ```ts
 * import { orientedBoxFromCenter } from "./oriented_box.ts";
 * import assert from "node:assert/strict";
 *
 * const box = orientedBoxFromCenter(10, 20, { width: 8, height: 4, angle: 90, convention: "degrees" });
 * assert.equal(box.angle, -Math.PI / 2); // pi/2 and -pi/2 describe the same box
 * assert.deepEqual([box.cx, box.cy, box.width, box.height], [10, 20, 8, 4]);
 * ```
 *
 * @param cx Centre x in the pixel frame.
 * @param cy Centre y in the pixel frame.
 * @param options Sides, angle and angle convention.
 * @returns The normalised box.
 */
export function orientedBoxFromCenter(
  cx: number,
  cy: number,
  options: OrientedBoxFromCenterOptions,
): OrientedBox {
  const { width, height, angle = 0, convention = "radians" } = options;
  if (!Number.isFinite(cx) || !Number.isFinite(cy)) {
    throw new RangeError(`Cannot build an oriented box: centre (${cx}, ${cy}) is not finite`);
  }
  if (!(Number.isFinite(width) && width >= 0) || !(Number.isFinite(height) && height >= 0)) {
    throw new RangeError(
      `Cannot build an oriented box: sides must be finite and >= 0, got ${width} x ${height}`,
    );
  }
  if (!Number.isFinite(angle)) {
    throw new RangeError(`Cannot build an oriented box: angle ${angle} is not finite`);
  }
  const reach = Math.max(Math.abs(cx), Math.abs(cy)) + Math.hypot(width, height) / 2;
  if (reach > MAX_COORDINATE) {
    throw new RangeError(
      `Cannot build an oriented box: centre (${cx}, ${cy}) and sides ${width} x ${height} reach out of range (pixel coordinates up to ${MAX_COORDINATE})`,
    );
  }
  let radians: number;
  switch (convention) {
    case "radians":
      radians = angle;
      break;
    case "degrees":
      radians = (angle * Math.PI) / 180;
      break;
    case "oc":
    case "le90":
    case "le135": {
      const [low, high, text] = CONVENTION_RANGES[convention];
      if (angle < low - RANGE_TOLERANCE || angle > high + RANGE_TOLERANCE) {
        throw new RangeError(
          `Cannot build an oriented box: angle ${angle} is outside the ${convention} range ${text} (radians)`,
        );
      }
      radians = angle;
      break;
    }
    default:
      throw new TypeError(
        `Cannot build an oriented box: unknown angle convention "${String(convention)}", ` +
          `expected one of ${ANGLE_CONVENTIONS.join(", ")}`,
      );
  }
  if (Math.abs(radians) > 1e3) {
    throw new RangeError(
      `Cannot build an oriented box: angle ${angle} (${convention}) is over a thousand radians: another unit?`,
    );
  }
  return { cx, cy, width, height, angle: normalizeHalfTurn(radians) };
}

/**
 * Builds an oriented box from four corners in any order of winding (DOTA
 * quads, YOLO-OBB). Quads from annotators are not exact rectangles, so the
 * result is their minimum-area rectangle; its `width` is the side most
 * parallel to the edge from the first corner to the second.
 *
 * @example Usage
 * ```ts
 * import { orientedBoxFromCorners } from "./oriented_box.ts";
 * import assert from "node:assert/strict";
 *
 * const box = orientedBoxFromCorners([
 *   { x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 4 }, { x: 0, y: 4 },
 * ]);
 * assert.deepEqual(box, { cx: 5, cy: 2, width: 10, height: 4, angle: 0 });
 * ```
 *
 * @param corners Exactly four corners in the pixel frame.
 * @returns The box; throws a `RangeError` for a wrong count, non-finite,
 * repeated or collinear corners.
 */
export function orientedBoxFromCorners(corners: readonly Point[]): OrientedBox {
  const what = "Cannot build an oriented box from corners";
  if (corners.length !== 4) {
    throw new RangeError(`${what}: expected 4 corners, got ${corners.length}`);
  }
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < 4; i++) {
    const p = corners[i]!;
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      throw new RangeError(`${what}: corner ${i} (${p.x}, ${p.y}) is not finite`);
    }
    if (Math.abs(p.x) > MAX_COORDINATE || Math.abs(p.y) > MAX_COORDINATE) {
      throw new RangeError(
        `${what}: corner ${i} (${p.x}, ${p.y}) is out of range (pixel coordinates up to ${MAX_COORDINATE})`,
      );
    }
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const extent = Math.max(maxX - minX, maxY - minY);
  const eps = 1e-9 * Math.max(1, extent, Math.abs(minX), Math.abs(minY), maxX, maxY);
  for (let i = 0; i < 4; i++) {
    for (let j = i + 1; j < 4; j++) {
      const a = corners[i]!, b = corners[j]!;
      if (Math.hypot(a.x - b.x, a.y - b.y) <= eps) {
        throw new RangeError(`${what}: corners ${i} and ${j} are the same point`);
      }
    }
  }
  // ties broken towards the first edge, so that round-off cannot pick another rectangle
  const first = Math.atan2(corners[1]!.y - corners[0]!.y, corners[1]!.x - corners[0]!.x);
  const rect = minAreaRect(corners, first);
  if (Math.min(rect.width, rect.height) <= 1e-9 * Math.max(1, extent)) {
    throw new RangeError(`${what}: the corners are collinear (zero area)`);
  }
  const c0 = corners[0]!, c1 = corners[1]!;
  const ex = c1.x - c0.x, ey = c1.y - c0.y;
  const cos = Math.cos(rect.angle), sin = Math.sin(rect.angle);
  const alongWidth = Math.abs(ex * cos + ey * sin);
  const alongHeight = Math.abs(-ex * sin + ey * cos);
  if (alongHeight > alongWidth) {
    return {
      cx: rect.cx,
      cy: rect.cy,
      width: rect.height,
      height: rect.width,
      angle: normalizeHalfTurn(rect.angle + Math.PI / 2),
    };
  }
  return rect;
}

/**
 * The four corners of a box: `C - u - v`, `C + u - v`, `C + u + v`,
 * `C - u + v` with `u` half the width side and `v` half the height side. For
 * angle 0 that is top-left, top-right, bottom-right, bottom-left (clockwise on
 * screen, a positive shoelace area in y-down coordinates).
 *
 * @example Usage
 * ```ts
 * import { boxCorners } from "./oriented_box.ts";
 * import assert from "node:assert/strict";
 *
 * const corners = boxCorners({ cx: 5, cy: 2, width: 10, height: 4, angle: 0 });
 * assert.deepEqual(corners, [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 4 }, { x: 0, y: 4 }]);
 * ```
 *
 * @param box The box.
 * @returns Its corners in the pixel frame.
 */
export function boxCorners(box: OrientedBox): [Point, Point, Point, Point] {
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  const ux = (box.width / 2) * cos, uy = (box.width / 2) * sin;
  const vx = (-box.height / 2) * sin, vy = (box.height / 2) * cos;
  return [
    { x: box.cx - ux - vx, y: box.cy - uy - vy },
    { x: box.cx + ux - vx, y: box.cy + uy - vy },
    { x: box.cx + ux + vx, y: box.cy + uy + vy },
    { x: box.cx - ux + vx, y: box.cy - uy + vy },
  ];
}

/**
 * The smallest horizontal box that contains an oriented box.
 *
 * @example Usage
 * ```ts
 * import { enclosingHBox } from "./oriented_box.ts";
 * import assert from "node:assert/strict";
 *
 * const h = enclosingHBox({ cx: 10, cy: 10, width: 8, height: 2, angle: -Math.PI / 2 });
 * assert.ok(Math.abs(h.x0 - 9) < 1e-12 && Math.abs(h.x1 - 11) < 1e-12);
 * assert.ok(Math.abs(h.y0 - 6) < 1e-12 && Math.abs(h.y1 - 14) < 1e-12);
 * ```
 *
 * @param box The oriented box.
 * @returns Its horizontal enclosing box in the pixel frame.
 */
export function enclosingHBox(box: OrientedBox): HBox {
  const cos = Math.abs(Math.cos(box.angle)), sin = Math.abs(Math.sin(box.angle));
  const hx = (box.width * cos + box.height * sin) / 2;
  const hy = (box.width * sin + box.height * cos) / 2;
  return { x0: box.cx - hx, y0: box.cy - hy, x1: box.cx + hx, y1: box.cy + hy };
}
