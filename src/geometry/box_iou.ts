/**
 * Intersection over union of two oriented boxes (rotated IoU), the overlap
 * DOTA's evaluation and oriented detectors match boxes by.
 *
 * @module
 */
import { boxCorners, type OrientedBox, type Point } from "./oriented_box.ts";

/** Twice the signed area of a polygon (counter-clockwise positive in a y-up frame). */
function signedArea2(poly: readonly Point[]): number {
  let a = 0;
  for (let i = 0; i < poly.length; i++) {
    const p = poly[i]!, q = poly[(i + 1) % poly.length]!;
    a += p.x * q.y - q.x * p.y;
  }
  return a;
}

/** `poly` clipped to the convex polygon `clip` (Sutherland-Hodgman; both in one orientation). */
function clipConvex(poly: readonly Point[], clip: readonly Point[], orientation: number): Point[] {
  let out: Point[] = [...poly];
  for (let i = 0; i < clip.length && out.length > 0; i++) {
    const a = clip[i]!, b = clip[(i + 1) % clip.length]!;
    const side = (p: Point) =>
      orientation * ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x));
    const input = out;
    out = [];
    for (let j = 0; j < input.length; j++) {
      const p = input[j]!, q = input[(j + 1) % input.length]!;
      const sp = side(p), sq = side(q);
      if (sp >= 0) out.push(p);
      if ((sp >= 0) !== (sq >= 0)) {
        const t = sp / (sp - sq);
        out.push({ x: p.x + t * (q.x - p.x), y: p.y + t * (q.y - p.y) });
      }
    }
  }
  return out;
}

/**
 * The IoU of two oriented boxes: the area of their intersection over the
 * area of their union; 0 when either has no area.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orientedBoxIoU } from "./box_iou.ts";
 *
 * const a = { cx: 0, cy: 0, width: 4, height: 2, angle: 0 };
 * assert.equal(orientedBoxIoU(a, a), 1);
 * // shifted by half its width: overlap 2 x 2 = 4 of a union 8 + 8 - 4
 * assert.ok(Math.abs(orientedBoxIoU(a, { ...a, cx: 2 }) - 4 / 12) < 1e-12);
 * // a square and the same square turned by 45 degrees: a regular octagon in common
 * const s = { cx: 0, cy: 0, width: 2, height: 2, angle: 0 };
 * const octagon = 8 * (Math.SQRT2 - 1);
 * assert.ok(Math.abs(orientedBoxIoU(s, { ...s, angle: Math.PI / 4 }) - octagon / (8 - octagon)) < 1e-12);
 * ```
 */
export function orientedBoxIoU(a: OrientedBox, b: OrientedBox): number {
  const areaA = a.width * a.height, areaB = b.width * b.height;
  if (!(areaA > 0) || !(areaB > 0)) return 0;
  // quick reject on the circumscribed circles
  const reach = Math.hypot(a.width, a.height) / 2 + Math.hypot(b.width, b.height) / 2;
  if (Math.hypot(a.cx - b.cx, a.cy - b.cy) >= reach) return 0;
  const pa = boxCorners(a), pb = boxCorners(b);
  const inter = clipConvex(pa, pb, Math.sign(signedArea2(pb)));
  const overlap = inter.length < 3 ? 0 : Math.abs(signedArea2(inter)) / 2;
  return overlap / (areaA + areaB - overlap);
}
