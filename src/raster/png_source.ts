/**
 * PNG images, decoded once: with the runtime's zlib ({@linkcode decodePngNative}), or
 * through fast-png (the only file that imports it for decoding) when interlaced.
 *
 * @module
 */

import { decodePngNative, decodePngPlanes } from "./png_inflate.ts";
import { type DecodedImage, decodedRasterSource, keptChannels } from "./decoded_source.ts";
import type { OpenRasterOptions, RasterSource } from "./source.ts";
import { readSidecarGeoref } from "./world_file.ts";
import { readPamDataset } from "./pam_dataset.ts";

/**
 * Converts fast-png's result to planes of 8- or 16-bit samples: bit depths
 * 1/2/4 are scaled to 0..255, palettes expanded to RGB (RGBA when the
 * entries carry alpha, from a tRNS chunk).
 *
 * @example Usage
 * ```ts
 * import { pngToDecodedImage } from "./png_source.ts";
 * const img = pngToDecodedImage({ width: 3, height: 1, depth: 1, channels: 1, data: new Uint8Array([0b10100000]) });
 * console.log(Array.from(img.data)); // [ 255, 0, 255 ]
 * ```
 *
 * @param png Fields of a decoded PNG.
 * @returns The image as 8/16-bit interleaved samples.
 */
export function pngToDecodedImage(png: {
  width: number;
  height: number;
  depth: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  palette?: number[][];
}): DecodedImage & { data: Uint8Array | Uint16Array } {
  const { width, height, depth, channels, palette } = png;
  const n = width * height;
  let data: Uint8Array | Uint16Array = png.data instanceof Uint8ClampedArray
    ? new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length)
    : png.data;
  if (depth < 8) {
    // packed rows, each starting on a byte boundary
    const unpacked = new Uint8Array(n * channels);
    const rowBytes = Math.ceil((width * channels * depth) / 8);
    const max = (1 << depth) - 1;
    const scale = palette ? 1 : 255 / max;
    for (let y = 0; y < height; y++) {
      for (let i = 0; i < width * channels; i++) {
        const bit = i * depth;
        const byte = data[y * rowBytes + (bit >> 3)]!;
        const v = (byte >> (8 - depth - (bit & 7))) & max;
        unpacked[y * width * channels + i] = Math.round(v * scale);
      }
    }
    data = unpacked;
  }
  if (palette) {
    // fast-png gives [r, g, b] entries, or [r, g, b, a] when a tRNS chunk is present
    const ch = palette.some((e) => e.length >= 4) ? 4 : 3;
    const out = new Uint8Array(n * ch);
    for (let i = 0; i < n; i++) {
      const entry = palette[data[i]!] ?? [0, 0, 0, 255];
      out[i * ch] = entry[0]!;
      out[i * ch + 1] = entry[1]!;
      out[i * ch + 2] = entry[2]!;
      if (ch === 4) out[i * ch + 3] = entry[3] ?? 255;
    }
    return { width, height, channels: ch, data: out, alphaChannel: ch === 4 ? 3 : null };
  }
  const alphaChannel = channels === 2 || channels === 4 ? channels - 1 : null;
  return { width, height, channels, data, alphaChannel };
}

/**
 * Opens a PNG (gray, gray+alpha, RGB, RGBA, palette; 1-16 bits), decoding it
 * once, as a {@linkcode RasterSource}. 16-bit data is stretched to 8-bit
 * like GeoTIFF data; alpha 0 is reported as nodata. A world file beside it
 * (`.pgw`, `.pngw`, `.wld`) gives the georeference, else the `<GeoTransform>` of
 * GDAL's `<png>.aux.xml` (GDAL's PNG driver's order); that file's `<NoDataValue>`
 * gives the nodata.
 *
 * @example Usage
 * ```ts
 * import { openPng } from "./png_source.ts";
 * import { encode } from "fast-png";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await Deno.writeFile(path, encode({ width: 1, height: 1, channels: 3, data: new Uint8Array([1, 2, 3]) }));
 * const src = await openPng(path);
 * console.log(Array.from((await src.readWindow([0, 0, 1, 1])).data)); // [ 1, 2, 3 ]
 * await src.close();
 * await Deno.remove(path);
 * ```
 *
 * @param path Path of the PNG.
 * @param options Band selection, stretch (16-bit), nodata.
 * @returns The source.
 */
export async function openPng(
  path: string,
  options: OpenRasterOptions = {},
): Promise<RasterSource> {
  const file = await Deno.open(path);
  let image: DecodedImage;
  let bandError: unknown;
  try {
    // 8/16-bit grey, RGB and their alpha forms read from the file as a stream straight into the
    // planes the source keeps (alpha is the last channel of grey+alpha and RGBA); the file is
    // closed when its stream ends or is cancelled
    const planar = await decodePngPlanes(file.readable, (channels) => {
      try {
        return keptChannels(options.bands, {
          channels,
          alphaChannel: channels === 2 || channels === 4 ? channels - 1 : null,
          path,
        });
      } catch (e) {
        bandError = e; // the user's band selection, not the file: said as it is
        throw e;
      }
    });
    if (planar) {
      const { width, height, channels, planes } = planar;
      const alphaChannel = channels === 2 || channels === 4 ? channels - 1 : null;
      image = { width, height, channels, planes, alphaChannel };
    } else {
      // palette and below-8-bit PNGs: the whole file; fast-png only for interlaced ones
      const bytes = await Deno.readFile(path);
      const png = await decodePngNative(bytes) ?? (await import("fast-png")).decode(bytes);
      image = pngToDecodedImage({
        width: png.width,
        height: png.height,
        depth: png.depth,
        channels: png.channels,
        data: png.data,
        palette: png.palette,
      });
    }
  } catch (error) {
    if (error === bandError) throw error;
    throw new TypeError(`Cannot open ${path}: not a readable PNG (${(error as Error).message})`, {
      cause: error,
    });
  }
  return decodedRasterSource(path, image, {
    ...options,
    georef: await readSidecarGeoref(path, { worldFileFirst: true }),
    bandNodata: (await readPamDataset(path))?.bandNodata,
  });
}
