/**
 * JPEG images through jpeg-js (the only file that imports it), decoded once.
 *
 * @module
 */

import { decode } from "jpeg-js";
import { decodedRasterSource } from "./decoded_source.ts";
import type { OpenRasterOptions, RasterSource } from "./source.ts";
import { readWorldFile } from "./world_file.ts";

/** Options of {@linkcode openJpeg}. */
export interface OpenJpegOptions extends OpenRasterOptions {
  /** Largest image decoded, in megapixels. @default {1000} */
  maxMegapixels?: number;
}

/**
 * Opens a JPEG (baseline or progressive; gray images come out as three equal
 * bands), decoding it once, as a 3-band {@linkcode RasterSource}. A world
 * file beside it (`.jgw`, `.jpgw`, `.wld`) gives the georeference.
 *
 * @example Usage
 * ```ts
 * import { openJpeg } from "./jpeg_source.ts";
 * import { encode } from "jpeg-js";
 * const rgba = new Uint8Array(8 * 8 * 4).fill(200);
 * const path = await Deno.makeTempFile({ suffix: ".jpg" });
 * await Deno.writeFile(path, encode({ width: 8, height: 8, data: rgba }, 95).data);
 * const src = await openJpeg(path);
 * console.log(src.width, src.bandCount); // 8 3
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path Path of the JPEG.
 * @param options Band selection, size limit.
 * @returns The source.
 */
export async function openJpeg(path: string, options: OpenJpegOptions = {}): Promise<RasterSource> {
  const bytes = await Deno.readFile(path);
  const maxMegapixels = options.maxMegapixels ?? 1000;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxMegapixels,
      maxMemoryUsageInMB: Math.ceil(maxMegapixels * 8),
    });
  } catch (error) {
    throw new TypeError(`Cannot open ${path}: not a readable JPEG (${(error as Error).message})`, {
      cause: error,
    });
  }
  return decodedRasterSource(
    path,
    {
      width: decoded.width,
      height: decoded.height,
      channels: 3,
      data: decoded.data,
      alphaChannel: null,
    },
    { ...options, georef: await readWorldFile(path) },
  );
}
