/**
 * Mask to polygons along pixel edges (as GDAL's polygonize does), and
 * Douglas-Peucker simplification of the result.
 *
 * @module
 */

import type { Point } from "../geometry/oriented_box.ts";
import { assertMaskWindow, maskBounds, type MaskWindow } from "./mask_window.ts";

/**
 * A closed ring of vertices in the pixel frame. The closing vertex is **not**
 * repeated: the ring runs from the last vertex back to the first (add it when
 * writing GeoJSON).
 */
export type Ring = Point[];

/** A polygon: the outer ring first, then its holes. */
export type Polygon = Ring[];

// Directions: 0 = +x, 1 = +y, 2 = -x, 3 = -y.
const DX = Int8Array.of(1, 0, -1, 0);
const DY = Int8Array.of(0, 1, 0, -1);

/**
 * NEXT[cfg * 4 + d]: the direction to leave a vertex by, arriving in direction
 * `d`, where `cfg` has bit 1 = top-left, 2 = top-right, 4 = bottom-left,
 * 8 = bottom-right pixel in the component. Boundary edges keep the component
 * on their left (in the mathematical sense of the y-down numbers), and at a
 * saddle the walk turns left, hugging the pixel it is going around, which
 * keeps diagonal neighbours apart (4-connected foreground).
 */
const NEXT = (() => {
  const table = new Int8Array(64).fill(-1);
  for (let cfg = 0; cfg < 16; cfg++) {
    const tl = (cfg & 1) !== 0, tr = (cfg & 2) !== 0, bl = (cfg & 4) !== 0, br = (cfg & 8) !== 0;
    const out = [br && !tr, bl && !br, tl && !bl, tr && !tl];
    for (let d = 0; d < 4; d++) {
      for (const nd of [(d + 1) % 4, d, (d + 3) % 4]) {
        if (out[nd]) {
          table[cfg * 4 + d] = nd;
          break;
        }
      }
    }
  }
  return table;
})();

/**
 * Signed shoelace area of a ring in its own coordinates. Rings from
 * {@linkcode traceMask} are positive for outer rings and negative for holes.
 *
 * @example Usage
 * ```ts
 * import { ringArea } from "./polygon.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ringArea([{ x: 0, y: 0 }, { x: 2, y: 0 }, { x: 2, y: 3 }, { x: 0, y: 3 }]), 6);
 * ```
 *
 * @param ring The ring (closing vertex not repeated; a repeated one adds nothing).
 * @returns `sum(x_i * y_{i+1} - x_{i+1} * y_i) / 2`.
 */
export function ringArea(ring: Ring): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    const a = ring[i]!, b = ring[(i + 1) % n]!;
    sum += a.x * b.y - b.x * a.y;
  }
  return sum / 2;
}

/**
 * Splits a closed vertex loop (flat `[x, y, ...]`) that passes through some
 * vertex more than once into simple loops.
 */
function splitAtRepeats(flat: number[]): number[][] {
  const loops: number[][] = [];
  const stack: number[] = [];
  const seen = new Map<string, number>(); // vertex -> index in `stack` (in points)
  for (let i = 0; i < flat.length; i += 2) {
    const x = flat[i]!, y = flat[i + 1]!;
    const key = `${x},${y}`;
    const at = seen.get(key);
    if (at !== undefined) {
      // The part after the first visit is a loop closed at this vertex.
      const loop = stack.splice(2 * at);
      for (let k = 0; k < loop.length; k += 2) seen.delete(`${loop[k]},${loop[k + 1]}`);
      loops.push(loop);
    }
    seen.set(key, stack.length / 2);
    stack.push(x, y);
  }
  if (stack.length > 0) loops.push(stack);
  return loops;
}

function flatArea(flat: readonly number[]): number {
  let sum = 0;
  const n = flat.length;
  for (let i = 0; i < n; i += 2) {
    const j = (i + 2) % n;
    sum += flat[i]! * flat[j + 1]! - flat[j]! * flat[i + 1]!;
  }
  return sum / 2;
}

function toRing(flat: readonly number[], x0: number, y0: number): Ring {
  const ring: Ring = new Array(flat.length / 2);
  for (let i = 0; i < flat.length; i += 2) ring[i / 2] = { x: flat[i]! + x0, y: flat[i + 1]! + y0 };
  return ring;
}

/** Even-odd test of a point against a flat loop. */
function insideFlat(flat: readonly number[], px: number, py: number): boolean {
  let inside = false;
  const n = flat.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const xi = flat[i]!, yi = flat[i + 1]!, xj = flat[j]!, yj = flat[j + 1]!;
    if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Traces the foreground of a mask into polygons along pixel edges, like GDAL's
 * polygonize with 4-connectivity: one polygon per 4-connected component
 * (pixels touching only at a corner are separate polygons), holes kept,
 * vertices only where the boundary turns (no collinear vertices), coordinates
 * in the pixel frame (integers: pixel corners, window offset applied).
 *
 * Orientation: outer rings have a positive shoelace area in the y-down pixel
 * numbers (counter-clockwise in the mathematical sense of the numbers as
 * written, clockwise as seen on screen); holes are negative. A writer whose
 * map transform flips y (a north-up geotransform) must reverse the rings to
 * get RFC 7946 (GeoJSON) orientation.
 *
 * Every ring is simple: where a boundary touches itself at a corner, it is
 * split there into an outer ring and a hole (or two holes) that share that
 * vertex, which is valid in the OGC sense. Rasterising the result with
 * `rasterizePolygon(..., { rule: "center" })` gives back the mask exactly.
 *
 * Polygons come in the row-major order of each component's first pixel.
 *
 * @example Usage
 * ```ts
 * import { traceMask } from "./polygon.ts";
 * import assert from "node:assert/strict";
 *
 * // A 3 x 3 ring of pixels with a hole, at window origin (10, 20).
 * const mask = { x0: 10, y0: 20, width: 3, height: 3, data: Uint8Array.of(1, 1, 1, 1, 0, 1, 1, 1, 1) };
 * const [poly] = traceMask(mask);
 * assert.equal(poly!.length, 2);
 * assert.deepEqual(poly![0]!.map((p) => [p.x, p.y]), [[10, 20], [13, 20], [13, 23], [10, 23]]);
 * assert.deepEqual(poly![1]!.map((p) => [p.x, p.y]), [[11, 22], [12, 22], [12, 21], [11, 21]]);
 * ```
 *
 * @param mask The mask.
 * @returns One polygon per 4-connected component.
 */
export function traceMask(mask: MaskWindow): Polygon[] {
  assertMaskWindow(mask, "trace a mask");
  // Work on the bounding box of the foreground only (windows are often mostly empty).
  const { width: mw, data } = mask;
  const bounds = maskBounds(mask);
  if (bounds === null) return [];
  const { width: w, height: h, x0: ox, y0: oy } = bounds;
  const bx0 = ox - mask.x0, by0 = oy - mask.y0;
  // 4-connected component labels in a one-pixel padded grid (0 = background).
  const W = w + 2;
  const fg = new Uint8Array(W * (h + 2));
  for (let y = 0; y < h; y++) {
    const src = (y + by0) * mw + bx0, dst = (y + 1) * W + 1;
    for (let x = 0; x < w; x++) fg[dst + x] = data[src + x] !== 0 ? 1 : 0;
  }
  const labels = new Int32Array(W * (h + 2));
  const stack = new Int32Array(w * h);
  let count = 0;
  for (let p = W; p < W * (h + 1); p++) {
    if (fg[p] === 0 || labels[p] !== 0) continue;
    const id = ++count;
    let top = 0;
    labels[p] = id;
    stack[top++] = p;
    while (top > 0) {
      const q = stack[--top]!;
      let r = q - 1;
      if (fg[r] !== 0 && labels[r] === 0) {
        labels[r] = id;
        stack[top++] = r;
      }
      r = q + 1;
      if (fg[r] !== 0 && labels[r] === 0) {
        labels[r] = id;
        stack[top++] = r;
      }
      r = q - W;
      if (fg[r] !== 0 && labels[r] === 0) {
        labels[r] = id;
        stack[top++] = r;
      }
      r = q + W;
      if (fg[r] !== 0 && labels[r] === 0) {
        labels[r] = id;
        stack[top++] = r;
      }
    }
  }

  const outers: number[][][] = Array.from({ length: count }, () => []);
  const holes: number[][][] = Array.from({ length: count }, () => []);
  const topDone = new Uint8Array(w * h); // top edge of pixel (x, y) already walked
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y + 1) * W + x + 1;
      const id = labels[p]!;
      if (id === 0 || labels[p - W] === id || topDone[y * w + x] !== 0) continue;
      // Walk the ring that contains the top edge of pixel (x, y), heading +x.
      const flat: number[] = [];
      let vx = x, vy = y, d = 0, saddle = false;
      for (;;) {
        if (d === 0) topDone[vy * w + vx] = 1;
        vx += DX[d]!;
        vy += DY[d]!;
        const base = vy * W + vx; // padded index of the top-left pixel of vertex (vx, vy)
        const cfg = (labels[base] === id ? 1 : 0) | (labels[base + 1] === id ? 2 : 0) |
          (labels[base + W] === id ? 4 : 0) | (labels[base + W + 1] === id ? 8 : 0);
        if (cfg === 6 || cfg === 9) saddle = true;
        const nd = NEXT[cfg * 4 + d]!;
        if (nd !== d) flat.push(vx, vy);
        if (vx === x && vy === y && nd === 0) break;
        d = nd;
      }
      // The start vertex is always a corner and was pushed last: put it first.
      flat.unshift(flat.pop()!);
      flat.unshift(flat.pop()!);
      for (const loop of saddle ? splitAtRepeats(flat) : [flat]) {
        (flatArea(loop) > 0 ? outers : holes)[id - 1]!.push(loop);
      }
    }
  }

  const polygons: Polygon[] = [];
  for (let c = 0; c < count; c++) {
    const shells = outers[c]!, inner = holes[c]!;
    if (shells.length === 1) {
      polygons.push([shells[0]!, ...inner].map((f) => toRing(f, ox, oy)));
      continue;
    }
    // Not expected for 4-connected components; kept correct anyway: each hole
    // goes to the smallest shell containing the midpoint of its first edge.
    const groups: number[][][] = shells.map((s) => [s]);
    const areas = shells.map(flatArea);
    for (const hole of inner) {
      const mx = (hole[0]! + hole[2]!) / 2, my = (hole[1]! + hole[3]!) / 2;
      let best = -1;
      for (let s = 0; s < shells.length; s++) {
        if (insideFlat(shells[s]!, mx, my) && (best < 0 || areas[s]! < areas[best]!)) best = s;
      }
      if (best >= 0) groups[best]!.push(hole);
    }
    for (const g of groups) polygons.push(g.map((f) => toRing(f, ox, oy)));
  }
  return polygons;
}

function segmentDistance(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/**
 * Douglas-Peucker importance of every vertex of a closed ring: a vertex is
 * kept at tolerance `t` exactly when its importance is `> t`. The two anchors
 * (vertex 0 and the vertex farthest from it) are `Infinity`.
 */
function ringImportance(ring: Ring): Float64Array {
  const n = ring.length;
  const imp = new Float64Array(n);
  const p0 = ring[0]!;
  let far = 0, farD = -1;
  for (let i = 1; i < n; i++) {
    const d = Math.hypot(ring[i]!.x - p0.x, ring[i]!.y - p0.y);
    if (d > farD) {
      farD = d;
      far = i;
    }
  }
  imp[0] = Infinity;
  imp[far] = Infinity;
  // Segments [a, b] (indices, b may be n meaning vertex 0) with the cap of their parent.
  const todo: number[] = [0, far, Infinity, far, n, Infinity];
  while (todo.length > 0) {
    const cap = todo.pop()!, b = todo.pop()!, a = todo.pop()!;
    if (b - a < 2) continue;
    const pa = ring[a]!, pb = ring[b % n]!;
    let m = -1, md = -1;
    for (let i = a + 1; i < b; i++) {
      const d = segmentDistance(ring[i]!.x, ring[i]!.y, pa.x, pa.y, pb.x, pb.y);
      if (d > md) {
        md = d;
        m = i;
      }
    }
    const v = Math.min(md, cap);
    imp[m] = v;
    todo.push(a, m, v, m, b, v);
  }
  return imp;
}

/**
 * Simplifies each ring of a polygon with Douglas-Peucker at `tolerance`
 * (pixels), keeping rings usable: the outer ring keeps at least 4 vertices
 * (its 4 most significant ones when the tolerance would leave fewer; rings
 * that already have fewer are kept as they are), and holes that would keep
 * fewer than 4 vertices are dropped. Vertices of the result are vertices of
 * the input. Simplification can make rings cross each other; use the mask or
 * RLE where exactness matters.
 *
 * @example Usage
 * ```ts
 * import { simplifyPolygon } from "./polygon.ts";
 * import assert from "node:assert/strict";
 *
 * // A staircase corner is cut by a diagonal; 4 vertices stay.
 * const ring = [[0, 0], [10, 0], [10, 10], [3, 10], [3, 9], [2, 9], [2, 8], [0, 8]]
 *   .map(([x, y]) => ({ x: x!, y: y! }));
 * const [outer] = simplifyPolygon([ring], 1.5);
 * assert.deepEqual(outer!.map((p) => [p.x, p.y]), [[0, 0], [10, 0], [10, 10], [0, 8]]);
 * ```
 *
 * @param poly The polygon (outer ring first).
 * @param tolerance Largest allowed distance in pixels from a dropped vertex to
 * the simplified edge (finite, >= 0; 0 only drops collinear vertices).
 * @returns A new polygon.
 */
export function simplifyPolygon(poly: Polygon, tolerance: number): Polygon {
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new RangeError(
      `Cannot simplify a polygon: tolerance ${tolerance} is not finite and >= 0`,
    );
  }
  const out: Polygon = [];
  poly.forEach((ring, r) => {
    if (ring.length < 4) {
      if (r === 0) out.push(ring.map((p) => ({ x: p.x, y: p.y })));
      return;
    }
    const imp = ringImportance(ring);
    let kept = 0;
    for (let i = 0; i < imp.length; i++) if (imp[i]! > tolerance) kept++;
    let threshold = tolerance;
    if (kept < 4) {
      if (r !== 0) return; // a hole that collapses
      // The 4th largest importance: everything at or above it stays.
      const sorted = Float64Array.from(imp).sort().reverse();
      threshold = sorted[3]!;
      const keep: Ring = [];
      for (let i = 0; i < ring.length && keep.length < 4; i++) {
        if (imp[i]! >= threshold) keep.push({ x: ring[i]!.x, y: ring[i]!.y });
      }
      out.push(keep);
      return;
    }
    const keep: Ring = [];
    for (let i = 0; i < ring.length; i++) {
      if (imp[i]! > threshold) keep.push({ x: ring[i]!.x, y: ring[i]!.y });
    }
    out.push(keep);
  });
  return out;
}
