/**
 * GDAL geotransforms between the pixel frame (corner origin, docs/CONTRACT.md)
 * and the raster's map CRS.
 *
 * @module
 */

import type { Point } from "../geometry/oriented_box.ts";

/**
 * A GDAL geotransform `[x0, dx/dcol, dx/drow, y0, dy/dcol, dy/drow]`:
 * `X = gt[0] + col * gt[1] + row * gt[2]`, `Y = gt[3] + col * gt[4] + row * gt[5]`,
 * for pixel-frame (corner-origin, continuous) `col, row`.
 */
export type GeoTransform = [number, number, number, number, number, number];

/**
 * Applies a geotransform to a point: pixel frame to map with the raster's
 * geotransform, map to pixel frame with its inverse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyGeoTransform } from "./geo_transform.ts";
 *
 * // 0.5 m pixels, north up, top-left corner at (500000, 4000000).
 * const gt: [number, number, number, number, number, number] = [500000, 0.5, 0, 4000000, 0, -0.5];
 * assert.deepEqual(applyGeoTransform(gt, { x: 10, y: 20 }), { x: 500005, y: 3999990 });
 * ```
 *
 * @param geoTransform The geotransform.
 * @param point The point to transform.
 * @returns The transformed point.
 */
export function applyGeoTransform(geoTransform: readonly number[], point: Point): Point {
  const [a = NaN, b = NaN, c = NaN, d = NaN, e = NaN, f = NaN] = geoTransform;
  return { x: a + point.x * b + point.y * c, y: d + point.x * e + point.y * f };
}

/**
 * Inverts a geotransform (as GDAL's `InvGeoTransform`), so that applying the
 * result maps map coordinates back to the pixel frame.
 *
 * Throws a RangeError when the geotransform is not invertible or not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyGeoTransform, invertGeoTransform } from "./geo_transform.ts";
 *
 * const gt: [number, number, number, number, number, number] = [500000, 0.5, 0, 4000000, 0, -0.5];
 * const inverse = invertGeoTransform(gt);
 * assert.deepEqual(applyGeoTransform(inverse, { x: 500005, y: 3999990 }), { x: 10, y: 20 });
 * ```
 *
 * @param geoTransform The geotransform to invert.
 * @returns The inverse geotransform.
 */
export function invertGeoTransform(geoTransform: readonly number[]): GeoTransform {
  const [a = NaN, b = NaN, c = NaN, d = NaN, e = NaN, f = NaN] = geoTransform;
  const det = b * f - c * e;
  if (!Number.isFinite(det) || det === 0 || geoTransform.length !== 6) {
    throw new RangeError(
      `Cannot invert geotransform [${
        geoTransform.join(", ")
      }]: it is not a finite, invertible affine map`,
    );
  }
  const ib = f / det;
  const ic = -c / det;
  const ie = -e / det;
  const iF = b / det;
  return [-a * ib - d * ic, ib, ic, -a * ie - d * iF, ie, iF];
}

/**
 * The smaller of the two pixel sizes of a geotransform, in map units (the
 * lengths of one pixel step along a column and along a row).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pixelSize } from "./geo_transform.ts";
 *
 * assert.equal(pixelSize([500000, 0.5, 0, 4000000, 0, -0.25]), 0.25);
 * ```
 *
 * @param geoTransform The geotransform.
 * @returns The smaller pixel size in map units.
 */
export function pixelSize(geoTransform: readonly number[]): number {
  const [, b = NaN, c = NaN, , e = NaN, f = NaN] = geoTransform;
  return Math.min(Math.hypot(b, e), Math.hypot(c, f));
}
