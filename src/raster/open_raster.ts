/**
 * Opens a raster file of any supported format by its content.
 *
 * @module
 */

import { openGeoTiff } from "./geotiff_source.ts";
import { openJpeg } from "./jpeg_source.ts";
import { openPng } from "./png_source.ts";
import type { OpenRasterOptions, RasterSource } from "./source.ts";

/** A raster file format {@linkcode openRaster} reads. */
export type RasterFormat = "tiff" | "png" | "jpeg";

const EXTENSIONS: Record<string, RasterFormat> = {
  tif: "tiff",
  tiff: "tiff",
  gtiff: "tiff",
  png: "png",
  jpg: "jpeg",
  jpeg: "jpeg",
};

/**
 * Tells the format from a file's first bytes (TIFF and BigTIFF in either
 * byte order, PNG, JPEG), or `null`.
 *
 * @example Usage
 * ```ts
 * import { sniffRasterFormat } from "./open_raster.ts";
 * console.log(sniffRasterFormat(new Uint8Array([0x49, 0x49, 42, 0]))); // "tiff"
 * console.log(sniffRasterFormat(new TextEncoder().encode("hello"))); // null
 * ```
 *
 * @param head The first (at least 8) bytes of the file.
 * @returns The format, or `null` when unknown.
 */
export function sniffRasterFormat(head: Uint8Array): RasterFormat | null {
  const [a, b, c, d] = head;
  if (
    (a === 0x49 && b === 0x49 && (c === 42 || c === 43) && d === 0) ||
    (a === 0x4d && b === 0x4d && c === 0 && (d === 42 || d === 43))
  ) return "tiff";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length >= 8 && png.every((v, i) => head[i] === v)) return "png";
  if (a === 0xff && b === 0xd8 && c === 0xff) return "jpeg";
  return null;
}

/**
 * Opens a raster for windowed reads as 8-bit RGB: GeoTIFF/TIFF (read window
 * by window, never whole), PNG and JPEG (decoded once). The format is told
 * by the file's first bytes; the extension only names the expected format in
 * errors. Errors name the file: a missing file throws `Deno.errors.NotFound`,
 * anything that is not a readable image a `TypeError`.
 *
 * @example Usage
 * ```ts
 * import { openRaster } from "./open_raster.ts";
 * import { encode } from "fast-png";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * const data = new Uint8Array([10, 20, 30, 40, 50, 60]);
 * await Deno.writeFile(path, encode({ width: 2, height: 1, channels: 3, data }));
 * const src = await openRaster(path, { bands: [3, 2, 1] });
 * const w = await src.readWindow([0, 0, 2, 1]);
 * console.log(src.width, src.height, Array.from(w.data)); // 2 1 [ 30, 20, 10, 60, 50, 40 ]
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path Path of the raster.
 * @param options Band selection, stretch, nodata.
 * @returns The opened source; close it when done.
 */
export async function openRaster(
  path: string,
  options: OpenRasterOptions = {},
): Promise<RasterSource> {
  let head: Uint8Array;
  try {
    const file = await Deno.open(path, { read: true });
    try {
      // Deno.stat on the path, not file.stat(): Deno checks an open file's stat
      // against the symlink's target, which a scoped run may not be granted.
      const info = await Deno.stat(path);
      if (!info.isFile) throw new TypeError(`Cannot open ${path}: not a regular file`);
      head = new Uint8Array(16);
      let filled = 0;
      while (filled < head.length) {
        const n = await file.read(head.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      head = head.subarray(0, filled);
    } finally {
      file.close();
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot open ${path}: no such file`, { cause: error });
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new TypeError(`Cannot open ${path}: not a regular file`, { cause: error });
    }
    throw error;
  }
  const format = sniffRasterFormat(head);
  if (format === null) {
    const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
    const expected = EXTENSIONS[ext];
    const why = head.length === 0
      ? "the file is empty"
      : expected !== undefined
      ? `the content is not ${expected === "tiff" ? "a TIFF" : `a ${expected.toUpperCase()}`}`
      : "not a TIFF, PNG or JPEG file";
    throw new TypeError(`Cannot open ${path}: ${why}`);
  }
  switch (format) {
    case "tiff":
      return await openGeoTiff(path, options);
    case "png":
      return await openPng(path, options);
    case "jpeg":
      return await openJpeg(path, options);
  }
}
