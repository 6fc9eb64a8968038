/**
 * JPEG images through MozJPEG's decoder compiled to WASM (`@jsquash/jpeg`, the only
 * file that imports it), decoded once.
 *
 * @module
 */

import { decodedRasterSource } from "./decoded_source.ts";
import type { OpenRasterOptions, RasterSource } from "./source.ts";
import { readWorldFile } from "./world_file.ts";

// The JPEG decoder (WASM) is loaded on the first JPEG, not at start-up.
const jpegDecoder = () => import("@jsquash/jpeg/decode");

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
 * const path = await Deno.makeTempFile({ suffix: ".jpg" });
 * // An 8x8 grey baseline JPEG made by GDAL.
 * const gdal = new Deno.Command("gdal_create", {
 *   args: ["-of", "JPEG", "-outsize", "8", "8", "-bands", "3", "-burn", "200", path],
 * });
 * if (!(await gdal.output()).success) throw new Error("gdal_create failed");
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
    // MozJPEG's decoder (libjpeg-turbo) as WASM: bit-identical to what OpenCV and GDAL
    // decode, so crops match the training data exactly.
    const image = await (await jpegDecoder()).default(bytes.buffer as ArrayBuffer);
    if (image.width * image.height > maxMegapixels * 1e6) {
      throw new RangeError(`${image.width}x${image.height} exceeds ${maxMegapixels} megapixels`);
    }
    // The decoder returns RGBA with opaque alpha; keep the three JPEG bands.
    const n = image.width * image.height;
    const rgb = new Uint8Array(3 * n);
    const rgba = image.data;
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      rgb[3 * i] = rgba[j]!;
      rgb[3 * i + 1] = rgba[j + 1]!;
      rgb[3 * i + 2] = rgba[j + 2]!;
    }
    decoded = { width: image.width, height: image.height, data: rgb };
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
