/**
 * A {@linkcode RasterSource} over an image decoded into memory (PNG, JPEG):
 * keeps only the selected bands (and alpha), one plane each.
 *
 * @module
 */

import { checkWindow } from "./check_window.ts";
import { selectedBandsNodata } from "./pam_dataset.ts";
import { PercentileSampler } from "./percentile_sampler.ts";
import { type BandMapping, RgbConverter } from "./rgb_converter.ts";
import { selectBands } from "./select_bands.ts";
import type { Georef, OpenRasterOptions, RasterSource, RgbWindow, Window } from "./source.ts";

/**
 * A decoded image: `channels` 8- or 16-bit samples per pixel, interleaved (`data`) or
 * already split into planes (`planes`, holding at least the channels
 * {@linkcode keptChannels} names: a decoder that knows them ahead never holds the
 * interleaved image).
 */
export type DecodedImage =
  & {
    /** Width in pixels. */
    width: number;
    /** Height in pixels. */
    height: number;
    /** Samples per pixel. */
    channels: number;
    /** 0-based index of an alpha channel, or `null`. */
    alphaChannel: number | null;
  }
  & (
    | {
      /** Interleaved samples, row-major. */
      data: Uint8Array | Uint16Array;
    }
    | {
      /** One row-major plane per kept channel. */
      planes: Map<number, Uint8Array | Uint16Array>;
    }
  );

/**
 * The channels a source over a decoded image keeps: the selected bands, and the alpha
 * channel (for `valid`) when it is not one of them.
 *
 * @example Usage
 * ```ts
 * import { keptChannels } from "./decoded_source.ts";
 * console.log(keptChannels(undefined, { channels: 4, alphaChannel: 3, path: "a.png" })); // [ 0, 1, 2, 3 ]
 * ```
 *
 * @param bands The `bands` option (1-based), or undefined for the default.
 * @param image The image's channel count and alpha channel, and the path named in errors.
 * @returns 0-based channel indices, each once.
 */
export function keptChannels(
  bands: OpenRasterOptions["bands"],
  image: { channels: number; alphaChannel: number | null; path: string },
): number[] {
  const selected = selectBands(bands, { bandCount: image.channels, path: image.path });
  const wanted = [...selected];
  if (image.alphaChannel !== null && !selected.includes(image.alphaChannel)) {
    wanted.push(image.alphaChannel);
  }
  return [...new Set(wanted)];
}

const SAMPLE_PIXELS = 4_000_000;

/**
 * Wraps a decoded image as a {@linkcode RasterSource}: band selection as for
 * GeoTIFF, 16-bit data stretched to 8-bit between percentiles (of at most
 * ~4 Mpx, strided), nodata (the `nodata` option) and alpha 0 reported in
 * `valid`.
 *
 * @example Usage
 * ```ts
 * import { decodedRasterSource } from "./decoded_source.ts";
 * const img = { width: 2, height: 1, channels: 1, data: new Uint8Array([7, 9]), alphaChannel: null };
 * const src = decodedRasterSource("mem.png", img, { georef: null });
 * const w = await src.readWindow([1, 0, 2, 1]);
 * console.log(src.bandCount, Array.from(w.data)); // 1 [ 9, 9, 9 ]
 * ```
 *
 * @param path The path named in errors and reported as `path`.
 * @param image The decoded image (interleaved: not kept, the kept planes are copied out;
 *   planes: kept as they are).
 * @param options Band selection, stretch, nodata, and the georeference.
 * @returns The source.
 */
export function decodedRasterSource(
  path: string,
  image: DecodedImage,
  options: OpenRasterOptions & {
    /** Georeferencing (e.g. from a world file). */
    georef: Georef | null;
    /**
     * The file's nodata by 1-based band (GDAL's `.aux.xml`), used when `nodata` is not given.
     * @default {none}
     */
    bandNodata?: ReadonlyMap<number, number>;
  },
): RasterSource {
  const { width, height, channels, alphaChannel } = image;
  const bandCount = channels;
  const bands = selectBands(options.bands, { bandCount, path });
  const n = width * height;
  const planes = new Map<number, Uint8Array | Uint16Array>();
  for (const c of keptChannels(options.bands, { channels, alphaChannel, path })) {
    if ("planes" in image) {
      const plane = image.planes.get(c);
      if (plane === undefined || plane.length !== n) {
        throw new Error(`decodedRasterSource: ${path} was decoded without channel ${c}`);
      }
      planes.set(c, plane);
      continue;
    }
    const data = image.data;
    const plane = data instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0, j = c; i < n; i++, j += channels) plane[i] = data[j]!;
    planes.set(c, plane);
  }
  const nodata = options.nodata ??
    (options.bandNodata ? selectedBandsNodata(options.bandNodata, bands) : null);
  const mappings = bands.map((c): BandMapping => {
    const plane = planes.get(c)!;
    if (plane instanceof Uint8Array) return { kind: "identity" };
    const sampler = new PercentileSampler({ nodata });
    sampler.add(plane, Math.max(1, Math.ceil(n / SAMPLE_PIXELS)));
    const [low, high] = sampler.range(options.stretch?.low ?? 2, options.stretch?.high ?? 98) ??
      [0, 65535];
    return { kind: "linear", low, high };
  }) as [BandMapping, BandMapping, BandMapping];
  const converter = new RgbConverter(mappings, { nodata });
  const selected = bands.map((c) => planes.get(c)!) as [
    Uint8Array | Uint16Array,
    Uint8Array | Uint16Array,
    Uint8Array | Uint16Array,
  ];
  const alpha = alphaChannel === null || bands.includes(alphaChannel)
    ? null
    : planes.get(alphaChannel)!;
  let closed = false;

  return {
    path,
    width,
    height,
    bandCount,
    georef: options.georef,
    readWindow(window: Window): Promise<RgbWindow> {
      if (closed) return Promise.reject(new TypeError(`Cannot read ${path}: the source is closed`));
      checkWindow(window, { width, height, path });
      const [x0, y0, x1, y1] = window;
      const w = x1 - x0, h = y1 - y0;
      const out = new Uint8Array(w * h * 3);
      const valid = new Uint8Array(w * h);
      let invalid = 0;
      for (let y = y0; y < y1; y++) {
        invalid += converter.convertRun(
          selected,
          y * width + x0,
          alpha,
          out,
          valid,
          (y - y0) * w,
          w,
        );
      }
      return Promise.resolve({ width: w, height: h, data: out, valid: invalid > 0 ? valid : null });
    },
    close(): Promise<void> {
      closed = true;
      planes.clear();
      return Promise.resolve();
    },
  };
}
