/**
 * Crop, resize and normalise one RAM crop into the encoder's input layout.
 *
 * The sampling rule is fixed by `docs/CONTRACT.md` and equals PyTorch's
 * `grid_sample(normalised, grid, "bilinear", "zeros", align_corners=False)`:
 * model pixel (u, v) samples the pixel-frame point
 * `(x0, y0) + (u + 0.5, v + 0.5) * size / inputSize`, pixel centres sit at
 * `i + 0.5`, and neighbours outside the image (or nodata) contribute the
 * normalised pad value 0 (the mean colour).
 *
 * @module
 */
import type { Crop } from "../geometry/ram.ts";
import type { RgbWindow, Window } from "../raster/source.ts";

/** Options of {@linkcode writeCropTensor}. */
export interface CropTensorOptions {
  /** Side of the model input. Default: 256. */
  inputSize?: number;
  /** Per-channel mean on 0..255 values. Default: SAM's `[123.675, 116.28, 103.53]`. */
  mean?: readonly [number, number, number];
  /** Per-channel std on 0..255 values. Default: SAM's `[58.395, 57.12, 57.375]`. */
  std?: readonly [number, number, number];
  /** Destination; a new array when omitted. Layout `float32[3,S,S]` at `offset`. */
  out?: Float32Array;
  /** Element offset in `out`. Default: 0. */
  offset?: number;
}

/**
 * The integer pixel window that holds every pixel the crop's bilinear
 * sampling can touch, clipped to the image; `null` when the crop lies fully
 * outside the image.
 *
 * @example
 * ```ts
 * import { cropReadWindow } from "./crop_tensor.ts";
 * const w = cropReadWindow({ x0: -4, y0: 10, size: 20 }, 100, 100);
 * if (w?.[0] !== 0 || w[2] !== 17) throw new Error(String(w));
 * ```
 */
export function cropReadWindow(crop: Crop, imageWidth: number, imageHeight: number): Window | null {
  const x0 = Math.max(0, Math.floor(crop.x0 - 1));
  const y0 = Math.max(0, Math.floor(crop.y0 - 1));
  const x1 = Math.min(imageWidth, Math.ceil(crop.x0 + crop.size + 1));
  const y1 = Math.min(imageHeight, Math.ceil(crop.y0 + crop.size + 1));
  if (x1 <= x0 || y1 <= y0) return null;
  return [x0, y0, x1, y1];
}

/** Per-axis sampling table: two source indices (or -1) and their weights. */
function axisTable(start: number, size: number, n: number, origin: number, limit: number) {
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const w0 = new Float64Array(n);
  const w1 = new Float64Array(n);
  const step = size / n;
  for (let u = 0; u < n; u++) {
    const f = start + (u + 0.5) * step - 0.5 - origin;
    const a = Math.floor(f);
    const t = f - a;
    i0[u] = a >= 0 && a < limit ? a : -1;
    i1[u] = a + 1 >= 0 && a + 1 < limit ? a + 1 : -1;
    w0[u] = 1 - t;
    w1[u] = t;
  }
  return { i0, i1, w0, w1 };
}

/**
 * Write the normalised crop tensor `float32[3,S,S]` for `crop`, sampling the
 * window `pixels` whose top-left pixel is at `origin` in the image.
 * `pixels` must hold every image pixel the crop touches (see
 * {@linkcode cropReadWindow}); pixels outside it count as outside the image.
 *
 * @example
 * ```ts
 * import { writeCropTensor } from "./crop_tensor.ts";
 * // A 2x2 white image, a crop that covers it exactly, sampled at 2x2.
 * const pixels = { width: 2, height: 2, data: new Uint8Array(12).fill(255), valid: null };
 * const t = writeCropTensor(pixels, { origin: [0, 0], crop: { x0: 0, y0: 0, size: 2 } }, {
 *   inputSize: 2, mean: [0, 0, 0], std: [255, 255, 255],
 * });
 * if (t.some((v) => Math.abs(v - 1) > 1e-6)) throw new Error(String(t));
 * ```
 */
export function writeCropTensor(
  pixels: RgbWindow,
  where: { origin: readonly [number, number]; crop: Crop },
  options: CropTensorOptions = {},
): Float32Array {
  const n = options.inputSize ?? 256;
  const mean = options.mean ?? [123.675, 116.28, 103.53];
  const std = options.std ?? [58.395, 57.12, 57.375];
  const offset = options.offset ?? 0;
  const out = options.out ?? new Float32Array(3 * n * n);
  if (out.length < offset + 3 * n * n) {
    throw new RangeError(
      `Cannot write a crop tensor: the output holds ${out.length - offset} values, ${
        3 * n * n
      } needed`,
    );
  }
  const { crop } = where;
  const [ox, oy] = where.origin;
  const W = pixels.width;
  const H = pixels.height;
  const xs = axisTable(crop.x0, crop.size, n, ox, W);
  const ys = axisTable(crop.y0, crop.size, n, oy, H);
  const data = pixels.data;
  const valid = pixels.valid;
  const plane = n * n;
  const inv0 = 1 / std[0], inv1 = 1 / std[1], inv2 = 1 / std[2];
  const m0 = mean[0], m1 = mean[1], m2 = mean[2];
  for (let v = 0; v < n; v++) {
    const ra = ys.i0[v]!, rb = ys.i1[v]!;
    const wa = ys.w0[v]!, wb = ys.w1[v]!;
    const rowBase = offset + v * n;
    for (let u = 0; u < n; u++) {
      const ca = xs.i0[u]!, cb = xs.i1[u]!;
      const xa = xs.w0[u]!, xb = xs.w1[u]!;
      let s0 = 0, s1 = 0, s2 = 0;
      // Four neighbours; an absent one (outside or nodata) adds the pad value 0.
      if (ra >= 0) {
        if (ca >= 0) {
          const p = ra * W + ca;
          if (!valid || valid[p]) {
            const w = wa * xa, q = 3 * p;
            s0 += w * (data[q]! - m0) * inv0;
            s1 += w * (data[q + 1]! - m1) * inv1;
            s2 += w * (data[q + 2]! - m2) * inv2;
          }
        }
        if (cb >= 0) {
          const p = ra * W + cb;
          if (!valid || valid[p]) {
            const w = wa * xb, q = 3 * p;
            s0 += w * (data[q]! - m0) * inv0;
            s1 += w * (data[q + 1]! - m1) * inv1;
            s2 += w * (data[q + 2]! - m2) * inv2;
          }
        }
      }
      if (rb >= 0) {
        if (ca >= 0) {
          const p = rb * W + ca;
          if (!valid || valid[p]) {
            const w = wb * xa, q = 3 * p;
            s0 += w * (data[q]! - m0) * inv0;
            s1 += w * (data[q + 1]! - m1) * inv1;
            s2 += w * (data[q + 2]! - m2) * inv2;
          }
        }
        if (cb >= 0) {
          const p = rb * W + cb;
          if (!valid || valid[p]) {
            const w = wb * xb, q = 3 * p;
            s0 += w * (data[q]! - m0) * inv0;
            s1 += w * (data[q + 1]! - m1) * inv1;
            s2 += w * (data[q + 2]! - m2) * inv2;
          }
        }
      }
      out[rowBase + u] = s0;
      out[rowBase + plane + u] = s1;
      out[rowBase + 2 * plane + u] = s2;
    }
  }
  return out;
}
