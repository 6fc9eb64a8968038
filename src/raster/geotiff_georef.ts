/**
 * GeoTIFF georeferencing tags to a GDAL-order geotransform and an EPSG code.
 *
 * @module
 */

import type { Georef } from "./source.ts";
import { geoKeysCrs, geoKeyValues } from "./geokeys_crs.ts";

/** The GeoTIFF tags that carry georeferencing (absent ones `undefined`). */
export interface GeoTiffGeoTags {
  /** ModelPixelScaleTag (33550): `[sx, sy, sz]`. */
  pixelScale?: ArrayLike<number>;
  /** ModelTiepointTag (33922): `[i, j, k, x, y, z, ...]`. */
  tiepoint?: ArrayLike<number>;
  /** ModelTransformationTag (34264): 4x4 row-major. */
  transformation?: ArrayLike<number>;
  /** GeoKeyDirectoryTag (34735). */
  geoKeyDirectory?: ArrayLike<number>;
  /** GeoDoubleParamsTag (34736): the values of a user-defined CRS's parameters. */
  geoDoubleParams?: ArrayLike<number>;
}

const GT_RASTER_TYPE = 1025;
const PIXEL_IS_POINT = 2;

/**
 * Reads the GeoKeys stored inline in a GeoKeyDirectory (SHORT values:
 * the ones that carry codes) as a map from key id to value.
 *
 * @example Usage
 * ```ts
 * import { inlineGeoKeys } from "./geotiff_georef.ts";
 * const keys = inlineGeoKeys([1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32633]);
 * console.log(keys.get(3072)); // 32633
 * ```
 *
 * @param directory The GeoKeyDirectoryTag values.
 * @returns Key id -> value for the inline keys.
 */
export function inlineGeoKeys(directory: ArrayLike<number>): Map<number, number> {
  return geoKeyValues(directory);
}

/**
 * Computes the georeferencing GDAL would report for a GeoTIFF: the
 * geotransform from ModelPixelScale + ModelTiepoint or from
 * ModelTransformation, shifted by half a pixel for PixelIsPoint rasters
 * (GDAL's default, `GTIFF_POINT_GEO_IGNORE=NO`), and the CRS of the GeoKeys
 * ({@linkcode geoKeysCrs}: an EPSG code, or a WKT for a user-defined CRS). Returns `null` without
 * an affine georeference (none, or ground control points only).
 *
 * @example Usage
 * ```ts
 * import { georefFromGeoTiffTags } from "./geotiff_georef.ts";
 * const g = georefFromGeoTiffTags({
 *   pixelScale: [10, 10, 0],
 *   tiepoint: [0, 0, 0, 500000, 5200000, 0],
 *   geoKeyDirectory: [1, 1, 0, 1, 3072, 0, 1, 32633],
 * });
 * console.log(g); // { geoTransform: [ 500000, 10, 0, 5200000, 0, -10 ], epsg: 32633, wkt: null }
 * ```
 *
 * @param tags The georeferencing tags.
 * @returns The georeference, or `null`.
 */
export function georefFromGeoTiffTags(tags: GeoTiffGeoTags): Georef | null {
  const geoTransform = geoTransformFromTags(tags);
  if (geoTransform === null) return null;
  const crs = tags.geoKeyDirectory
    ? geoKeysCrs(tags.geoKeyDirectory, tags.geoDoubleParams)
    : { epsg: null, wkt: null };
  return { geoTransform, epsg: crs.epsg, wkt: crs.wkt };
}

/**
 * The geotransform part of {@linkcode georefFromGeoTiffTags} (PixelIsPoint
 * shifted), or `null` without an affine georeference.
 */
export function geoTransformFromTags(tags: GeoTiffGeoTags): Georef["geoTransform"] | null {
  let gt: [number, number, number, number, number, number] | null = null;
  const { pixelScale: s, tiepoint: t, transformation: m } = tags;
  if (m !== undefined && m.length >= 16) {
    gt = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
  } else if (s !== undefined && s.length >= 2 && t !== undefined && t.length === 6) {
    const [i, j, , x, y] = Array.from(t);
    const [sx, sy] = [s[0]!, s[1]!];
    gt = [x! - i! * sx, sx, 0, y! + j! * sy, 0, -sy];
  }
  if (gt === null) return null;
  const keys = tags.geoKeyDirectory ? inlineGeoKeys(tags.geoKeyDirectory) : new Map();
  if (keys.get(GT_RASTER_TYPE) === PIXEL_IS_POINT) {
    gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
    gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
  }
  return gt;
}
