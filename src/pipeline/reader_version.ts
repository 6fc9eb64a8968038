/**
 * The version of how sopseg reads its inputs: rasters (bands, georeference
 * and nodata from the file and its sidecars, masks) and detection files. A
 * run record names it (`reader_version`), so that a `--resume` or a `merge`
 * over outputs made by a sopseg that read them otherwise says so.
 *
 * @module
 */

/**
 * This sopseg's reader version. Bump it with every change to what the raster
 * or detection readers make of a file. Records without one were written by an
 * earlier reader (`sopseg-reader-1`: before the sidecars were read in
 * GDAL's order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { READER_VERSION } from "./reader_version.ts";
 *
 * assert.match(READER_VERSION, /^sopseg-reader-\d+$/);
 * ```
 */
export const READER_VERSION = "sopseg-reader-2";
