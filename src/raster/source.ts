/**
 * The types every raster source shares: windows, georeferencing and the
 * {@link RasterSource} interface that GeoTIFF, PNG and JPEG readers implement.
 *
 * @module
 */

/**
 * An integer pixel window `[x0, y0, x1, y1]` of a full image: columns
 * `x0 <= x < x1`, rows `y0 <= y < y1` (end-exclusive, like geotiff.js), inside
 * the image.
 *
 * @example Usage
 * ```ts
 * import type { Window } from "./source.ts";
 * const w: Window = [0, 0, 256, 256];
 * console.log(w[2] - w[0]); // 256
 * ```
 */
export type Window = [x0: number, y0: number, x1: number, y1: number];

/**
 * Georeferencing of a raster.
 *
 * `geoTransform` is in GDAL order and maps the corner-origin pixel frame to the
 * map CRS: `X = gt[0] + x * gt[1] + y * gt[2]`, `Y = gt[3] + x * gt[4] + y * gt[5]`
 * where `(x, y)` are continuous pixel coordinates (pixel `(i, j)` covers
 * `[i, i+1) x [j, j+1)`), exactly what `gdalinfo -json` reports as `geoTransform`.
 *
 * @example Usage
 * ```ts
 * import type { Georef } from "./source.ts";
 * const g: Georef = { geoTransform: [500000, 1, 0, 5200000, 0, -1], epsg: 32633, wkt: null };
 * const [a, b, c] = g.geoTransform;
 * console.log(a + 10.5 * b + 0 * c); // 500010.5
 * ```
 */
export interface Georef {
  /** GDAL-order affine transform from the corner-origin pixel frame to the map CRS. */
  geoTransform: [number, number, number, number, number, number];
  /** EPSG code of the map CRS, or `null` when the file does not give one. */
  epsg: number | null;
  /** WKT of the map CRS when known (not derived from EPSG codes: no PROJ database here). */
  wkt: string | null;
}

/**
 * A window of pixels converted to 8-bit RGB.
 *
 * @example Usage
 * ```ts
 * import type { RgbWindow } from "./source.ts";
 * const w: RgbWindow = { width: 1, height: 1, data: new Uint8Array([255, 0, 0]), valid: null };
 * console.log(w.data.length === w.width * w.height * 3); // true
 * ```
 */
export interface RgbWindow {
  /** Window width in pixels. */
  width: number;
  /** Window height in pixels. */
  height: number;
  /** RGB interleaved, row-major, `width * height * 3` bytes. */
  data: Uint8Array;
  /** One byte per pixel, 0 where the pixel is nodata; `null` when every pixel is valid. */
  valid: Uint8Array | null;
}

/**
 * An opened raster that serves windows as 8-bit RGB. Open once, read many
 * windows, then {@linkcode RasterSource.close}.
 *
 * @example Usage
 * ```ts
 * import type { RasterSource } from "./source.ts";
 * async function centreWindow(src: RasterSource) {
 *   const x = Math.floor(src.width / 2), y = Math.floor(src.height / 2);
 *   return await src.readWindow([x, y, x + 1, y + 1]);
 * }
 * console.log(typeof centreWindow); // "function"
 * ```
 */
export interface RasterSource {
  /** The path the raster was opened from. */
  readonly path: string;
  /** Image width in pixels. */
  readonly width: number;
  /** Image height in pixels. */
  readonly height: number;
  /** Number of bands (samples per pixel) in the file, before band selection. */
  readonly bandCount: number;
  /** Georeferencing, or `null` when the file has none. */
  readonly georef: Georef | null;
  /**
   * Why `georef` is `null` although the file is georeferenced in a way sopseg
   * does not read (ground control points only), or why it names no CRS although
   * the file describes one (GeoKeys of a user-defined CRS sopseg cannot describe),
   * for a warning; absent otherwise.
   */
  readonly georefNote?: string;
  /**
   * Why the pixels will give no masks (every value sampled for the stretch is nodata
   * or not finite), for a warning; absent otherwise.
   */
  readonly pixelsNote?: string;
  /** Reads `window` (inside the image) as 8-bit RGB. */
  readWindow(window: Window): Promise<RgbWindow>;
  /** Releases the file; the source cannot be read afterwards. */
  close(): Promise<void>;
}

/**
 * Percentiles of the linear stretch that maps non-8-bit data to 0..255.
 *
 * @example Usage
 * ```ts
 * import type { StretchOptions } from "./source.ts";
 * const s: StretchOptions = { low: 1, high: 99 };
 * console.log(s.high); // 99
 * ```
 */
export interface StretchOptions {
  /** Percentile mapped to 0. @default {2} */
  low?: number;
  /** Percentile mapped to 255. @default {98} */
  high?: number;
}

/**
 * Options of {@linkcode openRaster} and the per-format openers.
 *
 * @example Usage
 * ```ts
 * import type { OpenRasterOptions } from "./source.ts";
 * const o: OpenRasterOptions = { bands: [4, 3, 2], stretch: { low: 2, high: 98 }, nodata: 0 };
 * console.log(o.bands?.length); // 3
 * ```
 */
export interface OpenRasterOptions {
  /**
   * 1-based bands to use as R, G, B: three bands, or one band replicated to
   * gray. @default {[1, 2, 3] when the file has 3 or more bands, else [1, 1, 1]}
   */
  bands?: number[];
  /** Percentile stretch for data that is not unsigned 8-bit. @default {{ low: 2, high: 98 }} */
  stretch?: StretchOptions;
  /**
   * Nodata value; overrides the file's own (GDAL_NODATA tag, or GDAL's .aux.xml). A pixel is
   * nodata when every selected band equals it (or is NaN).
   * @default {the file's nodata value, if any}
   */
  nodata?: number;
}
