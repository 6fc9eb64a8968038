/**
 * Polygon to mask, with the two pixel rules the project needs: pixel centres
 * inside (the inverse of `traceMask`) and OpenCV's inclusive `fillPoly` (the
 * ground-truth rule for the OpenCV-contour polygons of the data sets).
 *
 * @module
 */

import type { Polygon } from "./polygon.ts";
import type { MaskWindow } from "./mask_window.ts";

/** Which pixels a polygon covers. */
export type RasterRule = "center" | "inclusive";

/** Options for {@linkcode rasterizePolygon}. */
export interface RasterizeOptions {
  /** Width of the output window in pixels. */
  width: number;
  /** Height of the output window in pixels. */
  height: number;
  /**
   * `"center"`: pixels whose centre `(i + 0.5, j + 0.5)` is inside (even-odd
   * over all rings; centres on a left or top edge count as inside, on a right or
   * bottom edge as outside).
   * `"inclusive"`: OpenCV `cv2.fillPoly(img, rings, 1)` (8-connected lines,
   * shift 0) for rings whose vertices are pixel indices (integers): the rings'
   * outlines are drawn, then their interior is filled even-odd over all rings.
   */
  rule: RasterRule;
  /** Column of the window's first pixel in the image. @default {0} */
  x0?: number;
  /** Row of the window's first pixel in the image. @default {0} */
  y0?: number;
  /**
   * `"inclusive"` only: the size of the image that `cv2.fillPoly` draws into.
   * OpenCV clips edges that leave its image before drawing them, which moves
   * a few boundary pixels of polygons with vertices outside the image (such as
   * GT polygons with vertices on a tile's far edge, x = 512 for a 512-wide
   * tile); give the image size to reproduce that, and pixels outside it stay
   * 0. Unset: an unbounded image, nothing clipped.
   */
  image?: { width: number; height: number };
}

/**
 * Rasterises a polygon (all rings together, even-odd) into a window of the
 * image, by one of two rules (see {@linkcode RasterizeOptions.rule}).
 *
 * The `"inclusive"` rule is computed on the image given by `image` (OpenCV
 * clips edges that leave it) or on an unbounded one, then cut to the window:
 * it matches `cv2.fillPoly(np.zeros((H, W)), rings, 1)` cut to the window.
 *
 * @example Usage
 * ```ts
 * import { rasterizePolygon } from "./rasterize.ts";
 * import assert from "node:assert/strict";
 *
 * const square = [[{ x: 1, y: 1 }, { x: 3, y: 1 }, { x: 3, y: 3 }, { x: 1, y: 3 }]];
 * // Pixel-edge square [1, 3) x [1, 3): 2 x 2 pixels by centres...
 * const c = rasterizePolygon(square, { width: 5, height: 5, rule: "center" });
 * assert.equal(c.data.reduce((a, b) => a + b, 0), 4);
 * // ...and 3 x 3 pixels when the vertices are pixel indices, boundary included.
 * const i = rasterizePolygon(square, { width: 5, height: 5, rule: "inclusive" });
 * assert.equal(i.data.reduce((a, b) => a + b, 0), 9);
 * ```
 *
 * @param poly Rings in the pixel frame (closing vertex optional).
 * @param options Window and rule.
 * @returns A mask over the window.
 */
export function rasterizePolygon(poly: Polygon, options: RasterizeOptions): MaskWindow {
  const { width, height, rule, x0 = 0, y0 = 0, image } = options;
  const what = "Cannot rasterize a polygon";
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`${what}: window size ${width} x ${height} is invalid`);
  }
  if (!Number.isInteger(x0) || !Number.isInteger(y0)) {
    throw new RangeError(`${what}: window origin (${x0}, ${y0}) is not integer`);
  }
  for (const ring of poly) {
    for (const p of ring) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
        throw new RangeError(`${what}: vertex (${p.x}, ${p.y}) is not finite`);
      }
      if (rule === "inclusive" && (!Number.isInteger(p.x) || !Number.isInteger(p.y))) {
        throw new RangeError(
          `${what}: the inclusive rule needs integer vertices (pixel indices), got (${p.x}, ${p.y})`,
        );
      }
    }
  }
  const data = new Uint8Array(width * height);
  const mask = { x0, y0, width, height, data };
  if (width === 0 || height === 0) return mask;
  if (image !== undefined) {
    if (
      !Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 0 ||
      image.height < 0
    ) {
      throw new RangeError(`${what}: image size ${image.width} x ${image.height} is invalid`);
    }
  }
  if (rule === "center") fillCenters(poly, mask);
  else if (rule === "inclusive") {
    const bounded = image !== undefined;
    fillInclusive(poly, {
      mask,
      ix0: bounded ? Math.max(0, x0) : x0,
      iy0: bounded ? Math.max(0, y0) : y0,
      ix1: bounded ? Math.min(image.width, x0 + width) : x0 + width,
      iy1: bounded ? Math.min(image.height, y0 + height) : y0 + height,
      image: image ?? null,
    });
  } else {
    throw new TypeError(`${what}: unknown rule "${String(rule)}", expected center or inclusive`);
  }
  return mask;
}

/** Crossings of horizontal lines with ring edges, bucketed by row (CSR). */
interface RowCrossings {
  start: Int32Array; // row r has crossings xs[start[r] .. start[r + 1])
  xs: Float64Array;
}

/**
 * Collects, for every window row `r`, the x of each edge at that row's sample
 * line, as given by `span(edge)`: the rows an edge covers and its x at a row.
 */
function bucketRows(
  poly: Polygon,
  height: number,
  rows: (ax: number, ay: number, bx: number, by: number) => [number, number] | null,
  xAt: (ax: number, ay: number, bx: number, by: number, r: number) => number,
): RowCrossings {
  const counts = new Int32Array(height + 1);
  const visit = (
    emit: (ax: number, ay: number, bx: number, by: number, r0: number, r1: number) => void,
  ) => {
    for (const ring of poly) {
      const n = ring.length;
      for (let i = 0; i < n; i++) {
        const a = ring[i === 0 ? n - 1 : i - 1]!, b = ring[i]!;
        const span = rows(a.x, a.y, b.x, b.y);
        if (span === null) continue;
        const r0 = Math.max(0, span[0]), r1 = Math.min(height - 1, span[1]);
        if (r0 <= r1) emit(a.x, a.y, b.x, b.y, r0, r1);
      }
    }
  };
  visit((_ax, _ay, _bx, _by, r0, r1) => {
    for (let r = r0; r <= r1; r++) counts[r + 1]!++;
  });
  const start = new Int32Array(height + 1);
  for (let r = 0; r < height; r++) start[r + 1] = start[r]! + counts[r + 1]!;
  const xs = new Float64Array(start[height]!);
  const fill = start.slice(0, height);
  visit((ax, ay, bx, by, r0, r1) => {
    for (let r = r0; r <= r1; r++) xs[fill[r]!++] = xAt(ax, ay, bx, by, r);
  });
  return { start, xs };
}

function fillCenters(poly: Polygon, mask: MaskWindow): void {
  const { x0, y0, width, height, data } = mask;
  // Row r samples y = y0 + r + 0.5; an edge counts on the half-open range [min y, max y).
  const { start, xs } = bucketRows(
    poly,
    height,
    (_ax, ay, _bx, by) => {
      if (ay === by) return null;
      const lo = Math.min(ay, by), hi = Math.max(ay, by);
      return [Math.ceil(lo - y0 - 0.5), Math.ceil(hi - y0 - 0.5) - 1];
    },
    (ax, ay, bx, by, r) => ax + ((y0 + r + 0.5 - ay) * (bx - ax)) / (by - ay),
  );
  for (let r = 0; r < height; r++) {
    const row = xs.subarray(start[r]!, start[r + 1]!).sort();
    for (let k = 0; k + 1 < row.length; k += 2) {
      // Pixels whose centre x = x0 + i + 0.5 lies in [row[k], row[k + 1]).
      const i0 = Math.max(0, Math.ceil(row[k]! - x0 - 0.5));
      const i1 = Math.min(width, Math.ceil(row[k + 1]! - x0 - 0.5));
      if (i0 < i1) data.fill(1, r * width + i0, r * width + i1);
    }
  }
}

const XY_SHIFT = 16;
const XY_ONE = 1 << XY_SHIFT;

/** An integer point, mutable, for OpenCV's clipping. */
interface IPoint {
  x: number;
  y: number;
}

/**
 * OpenCV's `clipLine(Size2l, Point2l&, Point2l&)`: clips the segment to
 * `[0, w - 1] x [0, h - 1]` in place; true when something is left.
 */
function clipLine(w: number, h: number, p1: IPoint, p2: IPoint): boolean {
  const right = w - 1, bottom = h - 1;
  if (w <= 0 || h <= 0) return false;
  const code = (x: number, y: number) =>
    (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0);
  let c1 = code(p1.x, p1.y), c2 = code(p2.x, p2.y);
  if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
    if (c1 & 12) {
      const a = c1 < 8 ? 0 : bottom;
      p1.x += Math.trunc(((a - p1.y) * (p2.x - p1.x)) / (p2.y - p1.y));
      p1.y = a;
      c1 = (p1.x < 0 ? 1 : 0) + (p1.x > right ? 2 : 0);
    }
    if (c2 & 12) {
      const a = c2 < 8 ? 0 : bottom;
      p2.x += Math.trunc(((a - p2.y) * (p2.x - p1.x)) / (p2.y - p1.y));
      p2.y = a;
      c2 = (p2.x < 0 ? 1 : 0) + (p2.x > right ? 2 : 0);
    }
    if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
      if (c1) {
        const a = c1 === 1 ? 0 : right;
        p1.y += Math.trunc(((a - p1.x) * (p2.y - p1.y)) / (p2.x - p1.x));
        p1.x = a;
        c1 = 0;
      }
      if (c2) {
        const a = c2 === 1 ? 0 : right;
        p2.y += Math.trunc(((a - p2.x) * (p2.y - p1.y)) / (p2.x - p1.x));
        p2.x = a;
        c2 = 0;
      }
    }
  }
  return (c1 | c2) === 0;
}

/** Where pixels may be set: the window, cut to the OpenCV image when there is one. */
interface Target {
  mask: MaskWindow;
  /** Image bounds `[ix0, ix1) x [iy0, iy1)` in pixel indices. */
  ix0: number;
  iy0: number;
  ix1: number;
  iy1: number;
  /** The OpenCV image size, or null for an unbounded image. */
  image: { width: number; height: number } | null;
}

/** OpenCV's 8-connected `Line` (a left-to-right `LineIterator`). */
function drawLine(t: Target, ax: number, ay: number, bx: number, by: number): void {
  const { x0, y0, width, data } = t.mask;
  if (t.image !== null) {
    const { width: w, height: h } = t.image;
    if (ax < 0 || ax >= w || bx < 0 || bx >= w || ay < 0 || ay >= h || by < 0 || by >= h) {
      const p1 = { x: ax, y: ay }, p2 = { x: bx, y: by };
      if (!clipLine(w, h, p1, p2)) return;
      ax = p1.x;
      ay = p1.y;
      bx = p2.x;
      by = p2.y;
    }
  }
  let dx = bx - ax, dy = by - ay;
  let px = ax, py = ay;
  let deltaX = 1, deltaY = 1;
  if (dx < 0) {
    dx = -dx;
    dy = -dy;
    px = bx;
    py = by;
  }
  if (dy < 0) {
    dy = -dy;
    deltaY = -1;
  }
  const vert = dy > dx;
  if (vert) {
    [dx, dy] = [dy, dx];
    [deltaX, deltaY] = [deltaY, deltaX];
  }
  let err = dx - (dy + dy);
  const plusDelta = dx + dx, minusDelta = -(dy + dy);
  // Shift moves x, step moves y; the "plus" part is added on top when err < 0.
  let minusShift = deltaX, plusShift = 0, minusStep = 0, plusStep = deltaY;
  if (vert) {
    [plusStep, plusShift] = [plusShift, plusStep];
    [minusStep, minusShift] = [minusShift, minusStep];
  }
  for (let k = 0; k <= dx; k++) {
    if (k > 0) {
      const more = err < 0;
      err += minusDelta + (more ? plusDelta : 0);
      px += minusShift + (more ? plusShift : 0);
      py += minusStep + (more ? plusStep : 0);
    }
    if (px >= t.ix0 && px < t.ix1 && py >= t.iy0 && py < t.iy1) {
      data[(py - y0) * width + (px - x0)] = 1;
    }
  }
}

/**
 * `cv2.fillPoly` with integer vertices (shift 0, LINE_8): CollectPolyEdges
 * draws every edge and records the non-horizontal ones in 16.16 fixed point;
 * FillEdgeCollection fills, row by row, between pairs of active edges sorted
 * by x, from `ceil(x_left)` to `floor(x_right)` inclusive. An edge covers rows
 * `y_top .. y_bottom - 1`.
 */
function fillInclusive(poly: Polygon, t: Target): void {
  const { y0, width, height, data } = t.mask;
  const ey0: number[] = [], ey1: number[] = [], ex: number[] = [], edx: number[] = [];
  for (const ring of poly) {
    const n = ring.length;
    for (let i = 0; i < n; i++) {
      const a = ring[i === 0 ? n - 1 : i - 1]!, b = ring[i]!;
      drawLine(t, a.x, a.y, b.x, b.y);
      if (a.y === b.y) continue;
      // Clipped endpoints make a more accurate edge in OpenCV; replicate it.
      const t0 = { x: a.x, y: a.y }, t1 = { x: b.x, y: b.y };
      let c0y = a.y, c1y = b.y;
      if (t.image !== null) {
        const { width: w, height: h } = t.image;
        if (
          t0.x < 0 || t0.x >= w || t1.x < 0 || t1.x >= w || t0.y < 0 || t0.y >= h || t1.y < 0 ||
          t1.y >= h
        ) {
          clipLine(w, h, t0, t1);
          if (t0.y !== t1.y) {
            c0y = t0.y;
            c1y = t1.y;
          }
        }
      }
      const c0x = t0.x * XY_ONE, c1x = t1.x * XY_ONE;
      const dx = Math.trunc((c1x - c0x) / (c1y - c0y));
      if (a.y < b.y) {
        ey0.push(a.y);
        ey1.push(b.y);
        ex.push(c0x + (a.y - c0y) * dx);
      } else {
        ey0.push(b.y);
        ey1.push(a.y);
        ex.push(c1x + (b.y - c1y) * dx);
      }
      edx.push(dx);
    }
  }
  if (ey0.length < 2) return;
  // Bucket the edges' x by window row (CSR), then fill each row.
  const rowLo = Math.max(t.iy0, y0), rowHi = Math.min(t.iy1, y0 + height); // image rows [rowLo, rowHi)
  if (rowLo >= rowHi) return;
  const rows = rowHi - rowLo;
  const start = new Int32Array(rows + 1);
  for (let e = 0; e < ey0.length; e++) {
    const r0 = Math.max(ey0[e]!, rowLo), r1 = Math.min(ey1[e]!, rowHi);
    for (let y = r0; y < r1; y++) start[y - rowLo + 1]!++;
  }
  for (let r = 0; r < rows; r++) start[r + 1]! += start[r]!;
  const xs = new Float64Array(start[rows]!);
  const next = start.slice(0, rows);
  for (let e = 0; e < ey0.length; e++) {
    const r0 = Math.max(ey0[e]!, rowLo), r1 = Math.min(ey1[e]!, rowHi);
    for (let y = r0; y < r1; y++) xs[next[y - rowLo]!++] = ex[e]! + (y - ey0[e]!) * edx[e]!;
  }
  const colLo = Math.max(t.ix0, t.mask.x0), colHi = Math.min(t.ix1, t.mask.x0 + width) - 1;
  for (let r = 0; r < rows; r++) {
    const row = xs.subarray(start[r]!, start[r + 1]!).sort();
    const base = (rowLo + r - y0) * width - t.mask.x0;
    for (let k = 0; k + 1 < row.length; k += 2) {
      const i0 = Math.max(colLo, Math.floor((row[k]! + XY_ONE - 1) / XY_ONE));
      const i1 = Math.min(colHi, Math.floor(row[k + 1]! / XY_ONE));
      if (i0 <= i1) data.fill(1, base + i0, base + i1 + 1);
    }
  }
}
