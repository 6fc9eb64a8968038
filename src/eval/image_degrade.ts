/**
 * Seeded image degradation, to measure how the masks hold up on imagery that
 * looks like another sensor's (`deno task eval --image-degrade PRESET`): the
 * pixels change, the geometry never does, so the ground truth stays valid.
 *
 * The chain runs in a real sensor's order: resolution loss, blur, colour
 * (per-channel gain, gamma), sensor noise, JPEG. Each image gets its own
 * generator seeded from `(seed, key)` (the key is the COCO image id in the
 * evaluation), so an image's degradation does not depend on which other images
 * are evaluated or in what order.
 *
 * Training (`training/sopseg/data.py`, `degrade`) draws changes of the same
 * kinds per crop, each with a probability, so these presets are not held out
 * in kind; none of them is the training distribution exactly (fixed strengths,
 * several at once, on the whole image rather than the crop).
 *
 * @module
 */

import { mixSeed, mulberry32 } from "../random.ts";
import { checkWindow } from "../raster/check_window.ts";
import { decodeJpegPlanes } from "../raster/jpeg_decode.ts";
import type { RasterSource, RgbWindow, Window } from "../raster/source.ts";
import { type KeyRange, parsePresetOrPairs } from "./_option_text.ts";

// MozJPEG's encoder (WASM), loaded on the first JPEG step; decoding goes through the
// raster adapter (`jpeg_decode.ts`).
const jpegEncoder = () => import("@jsquash/jpeg/encode");

/** How an image is degraded; every step is off unless given. */
export interface ImageDegradeOptions {
  /**
   * Resolution loss, a factor >= 1: the image is area-averaged down to
   * `round(size / resolution)` and resampled bilinearly back up to its size (a coarser
   * sensor on the same pixel grid). Default: `1` (none).
   */
  resolution?: number;
  /** Gaussian blur sigma in pixels (kernel radius `ceil(3 sigma)`). Default: `0` (none). */
  blur?: number;
  /**
   * Per-channel gain: each of R, G, B is multiplied by a factor drawn from
   * `U(1 - gain, 1 + gain)` per image (a white balance off); below 1. Default: `0` (none).
   */
  gain?: number;
  /**
   * Gamma, a factor >= 1: each image gets an exponent `exp(U(-ln gamma, ln gamma))`
   * (log-uniform in `[1 / gamma, gamma]`), applied as `255 * (v / 255) ^ exponent` to all
   * channels (another tone curve). Default: `1` (none).
   */
  gamma?: number;
  /** Gaussian sensor noise, sigma in grey levels, per pixel and channel. Default: `0` (none). */
  noise?: number;
  /**
   * JPEG quality 1..100: the image is encoded (MozJPEG, standard quantisation tables,
   * 4:2:0 chroma, baseline) and decoded again. Default: none.
   */
  jpeg?: number;
  /** Seed. Default: `0`. */
  seed?: number;
  /** The preset's name, when the options come from {@linkcode IMAGE_DEGRADE_PRESETS}. */
  preset?: string;
}

/**
 * Named degradations of `deno task eval --image-degrade NAME`, each seeded (`NAME,seed=N`):
 * `lowres` a sensor of half the resolution, `blur` a soft lens or motion, `jpeg` strong
 * compression, `sensor` a different sensor and processing chain at once.
 */
export const IMAGE_DEGRADE_PRESETS: Readonly<Record<string, ImageDegradeOptions>> = {
  lowres: { resolution: 2 },
  blur: { blur: 1.2 },
  jpeg: { jpeg: 30 },
  sensor: { resolution: 1.5, gain: 0.12, gamma: 1.3, noise: 4, jpeg: 55 },
};

/** The largest image {@linkcode degradedSource} reads whole, in pixels (64 Mpx). */
export const MAX_DEGRADE_PIXELS = 64_000_000;

type Key = Exclude<keyof ImageDegradeOptions, "preset">;

/** Each option's check and the range it says when the check fails. */
const RANGES: Readonly<Record<Key, KeyRange>> = {
  resolution: { ok: (v) => v >= 1, range: "a number >= 1" },
  blur: { ok: (v) => v >= 0, range: "a number >= 0" },
  gain: { ok: (v) => v >= 0 && v < 1, range: "a number in [0, 1)" },
  gamma: { ok: (v) => v >= 1, range: "a number >= 1" },
  noise: { ok: (v) => v >= 0, range: "a number >= 0" },
  jpeg: { ok: (v) => Number.isInteger(v) && v >= 1 && v <= 100, range: "an integer in 1..100" },
  seed: { ok: (v) => Number.isInteger(v), range: "an integer" },
};
const KEYS = Object.keys(RANGES) as Key[];

/** The message for a bad value of `key`, or `null` when it is fine. */
function badValue(key: Key, value: unknown): string | null {
  if (value === undefined) return null;
  const { ok, range } = RANGES[key];
  return typeof value === "number" && Number.isFinite(value) && ok(value)
    ? null
    : `${key} ${value} is not ${range}`;
}

/**
 * Degrades an 8-bit RGB buffer (interleaved, row-major, as in {@linkcode RgbWindow}):
 * resolution, blur, gain, gamma, noise, JPEG, in that order, the random draws from a
 * generator seeded from `(options.seed, key)`: three gains, one gamma, then the noise,
 * always drawn in that order so one step's draws do not depend on the others being on.
 * The steps before JPEG run on floats, rounded and clipped to 0..255 once. Returns a new
 * buffer; options that change nothing give the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { degradeRgb } from "./image_degrade.ts";
 *
 * const image = { width: 4, height: 4, data: new Uint8Array(48).map((_, i) => i * 5) };
 * const a = await degradeRgb(image, { noise: 3, seed: 1 }, 7);
 * assert.deepEqual(a, await degradeRgb(image, { noise: 3, seed: 1 }, 7));
 * assert.notDeepEqual(a, image.data);
 * assert.deepEqual(await degradeRgb(image, {}, 7), image.data);
 * ```
 */
export async function degradeRgb(
  image: Pick<RgbWindow, "width" | "height" | "data">,
  options: ImageDegradeOptions,
  key: number,
): Promise<Uint8Array> {
  const { width, height, data } = image;
  for (const k of KEYS) {
    const bad = badValue(k, options[k]);
    if (bad !== null) throw new RangeError(`Cannot degrade the image: ${bad}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `Cannot degrade the image: ${data.length} bytes are not ${width}x${height} RGB`,
    );
  }
  const resolution = options.resolution ?? 1, blur = options.blur ?? 0;
  const gain = options.gain ?? 0, gamma = options.gamma ?? 1, noise = options.noise ?? 0;
  const rng = mulberry32(mixSeed(options.seed ?? 0, key));
  const gains = [0, 1, 2].map(() => 1 + gain * (2 * rng() - 1));
  const exponent = Math.exp((2 * rng() - 1) * Math.log(gamma));

  let planes = toPlanes(data, width * height);
  const small = [
    Math.max(1, Math.round(width / resolution)),
    Math.max(1, Math.round(height / resolution)),
  ] as const;
  if (small[0] !== width || small[1] !== height) {
    planes = planes.map((p) => {
      const down = resample(p, [width, height], small, "area");
      return resample(down, small, [width, height], "bilinear");
    });
  }
  if (blur > 0) planes = planes.map((p) => gaussianBlur(p, width, height, blur));
  if (gain > 0 || gamma > 1) {
    for (const [c, p] of planes.entries()) {
      const g = gains[c]!;
      for (let i = 0; i < p.length; i++) {
        const v = Math.min(255, Math.max(0, p[i]! * g));
        p[i] = gamma > 1 ? 255 * (v / 255) ** exponent : v;
      }
    }
  }
  if (noise > 0) addNoise(planes, noise, rng);
  const out = fromPlanes(planes);
  return options.jpeg === undefined ? out : await jpegRoundTrip(out, width, height, options.jpeg);
}

/**
 * A source that serves `source`'s pixels degraded ({@linkcode degradeRgb} with
 * `options` and `key`): it reads the whole image once (at most
 * {@linkcode MAX_DEGRADE_PIXELS}, else a `RangeError`), then answers
 * `readWindow` from the degraded copy with the same contract (integer windows
 * inside the image). `valid` is the original's (nodata pixels are degraded like
 * the others). `close()` closes `source`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodedRasterSource } from "../raster/decoded_source.ts";
 * import { degradedSource } from "./image_degrade.ts";
 *
 * const data = new Uint8Array(8 * 8 * 3).map((_, i) => (i % 48 < 24 ? 0 : 240));
 * const image = { width: 8, height: 8, channels: 3, data, alphaChannel: null };
 * const src = await degradedSource(
 *   decodedRasterSource("mem.png", image, { georef: null }),
 *   { blur: 1 },
 *   1,
 * );
 * const w = await src.readWindow([0, 0, 8, 8]);
 * assert.equal(w.width, 8);
 * assert.ok(w.data[3 * 3]! > 0 && w.data[3 * 3]! < 240); // the edge between rows is soft
 * await assert.rejects(src.readWindow([0, 0, 9, 8]), RangeError);
 * await src.close();
 * ```
 */
export async function degradedSource(
  source: RasterSource,
  options: ImageDegradeOptions,
  key: number,
): Promise<RasterSource> {
  const { width, height, path } = source;
  if (width * height > MAX_DEGRADE_PIXELS) {
    throw new RangeError(
      `Cannot degrade ${path}: its ${width}x${height} pixels are over the ${
        MAX_DEGRADE_PIXELS / 1e6
      } Mpx that image degradation reads at once`,
    );
  }
  const full = await source.readWindow([0, 0, width, height]);
  const data = await degradeRgb(full, options, key);
  const valid = full.valid;
  let closed = false;
  return {
    path,
    width,
    height,
    bandCount: source.bandCount,
    georef: source.georef,
    ...(source.georefNote === undefined ? {} : { georefNote: source.georefNote }),
    ...(source.pixelsNote === undefined ? {} : { pixelsNote: source.pixelsNote }),
    // a bad window rejects the promise rather than throwing
    readWindow: (window: Window) =>
      new Promise<RgbWindow>((resolve) => {
        if (closed) throw new TypeError(`Cannot read ${path}: the source is closed`);
        checkWindow(window, { width, height, path });
        const [x0, y0, x1, y1] = window;
        const w = x1 - x0, h = y1 - y0;
        const out = new Uint8Array(w * h * 3);
        const mask = valid === null ? null : new Uint8Array(w * h);
        for (let y = 0; y < h; y++) {
          const row = (y0 + y) * width + x0;
          out.set(data.subarray(3 * row, 3 * (row + w)), 3 * y * w);
          mask?.set(valid!.subarray(row, row + w), y * w);
        }
        resolve({ width: w, height: h, data: out, valid: mask });
      }),
    async close(): Promise<void> {
      closed = true;
      await source.close();
    },
  };
}

/**
 * Parses `--image-degrade`: a preset's name from {@linkcode IMAGE_DEGRADE_PRESETS},
 * optionally followed by `,seed=N`, or `key=value,...` pairs (keys `resolution`, `blur`,
 * `gain`, `gamma`, `noise`, `jpeg`, `seed`; the others off, seed 0). Throws a `TypeError`
 * naming the unknown preset or key, or the value and its allowed range (`_option_text.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseImageDegrade } from "./image_degrade.ts";
 *
 * assert.deepEqual(parseImageDegrade("lowres"), { resolution: 2, seed: 0, preset: "lowres" });
 * assert.deepEqual(parseImageDegrade("blur=0.8,jpeg=70,seed=2"), { blur: 0.8, jpeg: 70, seed: 2 });
 * assert.throws(() => parseImageDegrade("jpeg=0"), /jpeg 0 is not an integer in 1\.\.100/);
 * ```
 */
export function parseImageDegrade(text: string): ImageDegradeOptions {
  const { preset, values } = parsePresetOrPairs(text, {
    what: "image degradation",
    presets: Object.keys(IMAGE_DEGRADE_PRESETS),
    ranges: RANGES,
  });
  const seed = values.seed ?? 0;
  if (preset !== null) return { ...IMAGE_DEGRADE_PRESETS[preset], seed, preset };
  if (KEYS.every((k) => k === "seed" || values[k] === undefined)) {
    throw new TypeError(
      `Cannot parse image degradation "${text}": it changes nothing (keys: ${KEYS.join(", ")})`,
    );
  }
  return { ...values, seed };
}

/** Interleaved RGB -> three float planes. */
function toPlanes(data: Uint8Array, n: number): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const p = new Float32Array(n);
    for (let i = 0, j = c; i < n; i++, j += 3) p[i] = data[j]!;
    return p;
  });
}

/** Three float planes -> interleaved RGB, rounded and clipped to 0..255. */
function fromPlanes(planes: readonly Float32Array[]): Uint8Array {
  const n = planes[0]!.length;
  const out = new Uint8Array(n * 3);
  for (const [c, p] of planes.entries()) {
    for (let i = 0, j = c; i < n; i++, j += 3) {
      out[j] = Math.min(255, Math.max(0, Math.round(p[i]!)));
    }
  }
  return out;
}

/** Taps of a 1-D resampling: for output `i`, source indices `first[i]..` with `weights`. */
interface Taps {
  first: Int32Array;
  count: number;
  weights: Float32Array;
}

/**
 * 1-D taps from `src` to `dst` samples (pixel centres at `i + 0.5`): `area` averages the
 * source pixels each output pixel covers (for shrinking), `bilinear` interpolates between
 * the two nearest centres, clamped at the ends (for enlarging), as OpenCV's INTER_AREA and
 * INTER_LINEAR do.
 */
function taps(src: number, dst: number, kind: "area" | "bilinear"): Taps {
  const scale = src / dst;
  const count = kind === "area" ? Math.ceil(scale) + 1 : 2;
  const first = new Int32Array(dst);
  const weights = new Float32Array(dst * count);
  for (let i = 0; i < dst; i++) {
    if (kind === "area") {
      const a = i * scale, b = Math.min(src, (i + 1) * scale);
      const j0 = Math.floor(a);
      first[i] = j0;
      for (let k = 0; k < count && j0 + k < b; k++) {
        const j = j0 + k;
        weights[i * count + k] = (Math.min(j + 1, b) - Math.max(j, a)) / scale;
      }
    } else {
      const x = Math.min(src - 1, Math.max(0, (i + 0.5) * scale - 0.5));
      const j0 = Math.min(src - 2, Math.floor(x));
      first[i] = Math.max(0, j0);
      if (src === 1) weights[i * count] = 1;
      else {
        weights[i * count] = 1 - (x - j0);
        weights[i * count + 1] = x - j0;
      }
    }
  }
  return { first, count, weights };
}

/** Resamples a plane from `from` = [w, h] to `to` = [w, h], separably (x, then y). */
function resample(
  plane: Float32Array,
  from: readonly [number, number],
  to: readonly [number, number],
  kind: "area" | "bilinear",
): Float32Array {
  const [w0, h0] = from, [w1, h1] = to;
  const tx = taps(w0, w1, kind), ty = taps(h0, h1, kind);
  const rows = new Float32Array(w1 * h0);
  for (let y = 0; y < h0; y++) {
    for (let x = 0; x < w1; x++) {
      let s = 0;
      const j0 = tx.first[x]!;
      for (let k = 0; k < tx.count; k++) {
        const wt = tx.weights[x * tx.count + k]!;
        if (wt !== 0) s += wt * plane[y * w0 + j0 + k]!;
      }
      rows[y * w1 + x] = s;
    }
  }
  const out = new Float32Array(w1 * h1);
  for (let y = 0; y < h1; y++) {
    const j0 = ty.first[y]!;
    for (let k = 0; k < ty.count; k++) {
      const wt = ty.weights[y * ty.count + k]!;
      if (wt === 0) continue;
      const src = (j0 + k) * w1;
      for (let x = 0; x < w1; x++) out[y * w1 + x]! += wt * rows[src + x]!;
    }
  }
  return out;
}

/** Index `i` reflected into `0..n-1` without repeating the edge (OpenCV's BORDER_REFLECT_101). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Separable Gaussian blur of a plane, kernel radius `ceil(3 sigma)`, reflected borders. */
function gaussianBlur(plane: Float32Array, width: number, height: number, sigma: number) {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += kernel[k + r] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k]! /= sum;
  const tmp = new Float32Array(plane.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += kernel[k + r]! * plane[row + reflect101(x + k, width)]!;
      tmp[row + x] = s;
    }
  }
  const out = new Float32Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let k = -r; k <= r; k++) {
      const wt = kernel[k + r]!, src = reflect101(y + k, height) * width;
      for (let x = 0; x < width; x++) out[y * width + x]! += wt * tmp[src + x]!;
    }
  }
  return out;
}

/** Adds `N(0, sigma)` to every sample, pixel by pixel (R, G, B), from `rng` (Box-Muller). */
function addNoise(planes: Float32Array[], sigma: number, rng: () => number): void {
  const n = planes[0]!.length;
  let spare: number | null = null;
  for (let i = 0; i < n; i++) {
    for (const p of planes) {
      let z: number;
      if (spare !== null) {
        z = spare;
        spare = null;
      } else {
        const radius = Math.sqrt(-2 * Math.log(1 - rng())), t = 2 * Math.PI * rng();
        z = radius * Math.cos(t);
        spare = radius * Math.sin(t);
      }
      p[i]! += sigma * z;
    }
  }
}

/** Encodes RGB as a JPEG of `quality` and decodes it again. */
async function jpegRoundTrip(
  rgb: Uint8Array,
  width: number,
  height: number,
  quality: number,
): Promise<Uint8Array> {
  const n = width * height;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    rgba[4 * i] = rgb[3 * i]!;
    rgba[4 * i + 1] = rgb[3 * i + 1]!;
    rgba[4 * i + 2] = rgb[3 * i + 2]!;
    rgba[4 * i + 3] = 255;
  }
  const { default: encode } = await jpegEncoder();
  // every option that changes the pixels pinned, so a new default cannot move the scores
  const bytes = await encode(new ImageData(rgba, width, height), {
    quality,
    baseline: true,
    progressive: false,
    quant_table: 0, // the JPEG standard's (Annex K) tables, as libjpeg and cameras use
    color_space: 3, // YCbCr
    auto_subsample: false,
    chroma_subsample: 2, // 4:2:0
    separate_chroma_quality: false,
    smoothing: 0,
  });
  const decoded = await decodeJpegPlanes(new Uint8Array(bytes), [0, 1, 2]);
  const out = new Uint8Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const p = decoded.planes.get(c)!;
    for (let i = 0, j = c; i < n; i++, j += 3) out[j] = p[i]!;
  }
  return out;
}
