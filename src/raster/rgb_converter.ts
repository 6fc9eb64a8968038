/**
 * Conversion of three selected bands (any sample type) to 8-bit RGB, with
 * the linear stretch and the nodata mask.
 *
 * @module
 */

import type { PixelArray } from "./percentile_sampler.ts";

/**
 * How one band's values become 0..255: `identity` for unsigned 8-bit data,
 * `linear` maps `low -> 0` and `high -> 255`:
 * `round((v - low) * 255 / (high - low))` clamped to 0..255 (range 1 when
 * `high <= low`).
 *
 * @example Usage
 * ```ts
 * import type { BandMapping } from "./rgb_converter.ts";
 * const m: BandMapping = { kind: "linear", low: 100, high: 4000 };
 * console.log(m.kind); // "linear"
 * ```
 */
export type BandMapping = { kind: "identity" } | { kind: "linear"; low: number; high: number };

/**
 * Converts runs of pixels of three bands to interleaved RGB bytes.
 *
 * A pixel is nodata (valid 0, RGB 0) when every one of the three bands
 * equals `nodata` or is NaN, or when its alpha value is 0. Stretch lookup
 * tables for 16-bit data are built once per band.
 *
 * @example Usage
 * ```ts
 * import { RgbConverter } from "./rgb_converter.ts";
 * const conv = new RgbConverter(
 *   [{ kind: "linear", low: 0, high: 1000 }, { kind: "identity" }, { kind: "identity" }],
 *   { nodata: 0 },
 * );
 * const red = new Uint16Array([0, 500, 1000]);
 * const gb = new Uint16Array([0, 7, 9]);
 * const out = new Uint8Array(9), valid = new Uint8Array(3);
 * const invalid = conv.convertRun([red, gb, gb], 0, null, out, valid, 0, 3);
 * console.log(invalid, Array.from(out), Array.from(valid));
 * // 1 [ 0, 0, 0, 128, 7, 7, 255, 9, 9 ] [ 0, 1, 1 ]
 * ```
 */
export class RgbConverter {
  #mappings: [BandMapping, BandMapping, BandMapping];
  #nodata: number | null;
  #luts: (Uint8Array | undefined)[] = [undefined, undefined, undefined];

  /**
   * @param mappings One mapping per output channel (R, G, B).
   * @param options `nodata`: the nodata value (default none; NaN is always missing).
   */
  constructor(
    mappings: [BandMapping, BandMapping, BandMapping],
    options: { nodata?: number | null } = {},
  ) {
    this.#mappings = mappings;
    this.#nodata = options.nodata ?? null;
  }

  /**
   * Converts `count` pixels starting at `srcStart` in each band array into
   * `out` (RGB, pixel index `dst`) and `valid` (one byte per pixel).
   *
   * @param bands The R, G, B band arrays (may be the same array).
   * @param srcStart First pixel index in the band arrays (and `alpha`).
   * @param alpha Alpha values (0 = transparent = nodata), or `null`.
   * @param out Output RGB bytes.
   * @param valid Output validity bytes.
   * @param dst First output pixel index.
   * @param count Number of pixels.
   * @returns The number of nodata pixels in the run.
   */
  convertRun(
    bands: readonly [PixelArray, PixelArray, PixelArray],
    srcStart: number,
    alpha: PixelArray | null,
    out: Uint8Array,
    valid: Uint8Array,
    dst: number,
    count: number,
  ): number {
    for (let c = 0; c < 3; c++) this.#convertBand(c, bands[c]!, srcStart, out, dst, count);
    const nodata = this.#nodata;
    const [r, g, b] = bands;
    const mayBeNaN =
      !(r instanceof Uint8Array || r instanceof Uint16Array || r instanceof Int16Array);
    let invalid = 0;
    for (let i = 0; i < count; i++) {
      const s = srcStart + i;
      let ok = true;
      if (nodata !== null || mayBeNaN) {
        const vr = r[s]!, vg = g[s]!, vb = b[s]!;
        ok = !((vr === nodata || vr !== vr) && (vg === nodata || vg !== vg) &&
          (vb === nodata || vb !== vb));
      }
      if (ok && alpha !== null && alpha[s] === 0) ok = false;
      if (ok) {
        valid[dst + i] = 1;
      } else {
        valid[dst + i] = 0;
        const o = (dst + i) * 3;
        out[o] = out[o + 1] = out[o + 2] = 0;
        invalid++;
      }
    }
    return invalid;
  }

  #convertBand(
    c: number,
    src: PixelArray,
    srcStart: number,
    out: Uint8Array,
    dst: number,
    count: number,
  ): void {
    const m = this.#mappings[c]!;
    let o = dst * 3 + c;
    const end = srcStart + count;
    if (m.kind === "identity") {
      for (let s = srcStart; s < end; s++, o += 3) out[o] = src[s]!;
      return;
    }
    if (src instanceof Uint16Array || src instanceof Int16Array) {
      const lut = this.#lut(c, m, src instanceof Int16Array ? -32768 : 0);
      const off = src instanceof Int16Array ? 32768 : 0;
      for (let s = srcStart; s < end; s++, o += 3) out[o] = lut[src[s]! + off]!;
      return;
    }
    const low = m.low;
    const range = m.high > m.low ? m.high - m.low : 1;
    for (let s = srcStart; s < end; s++, o += 3) {
      const v = ((src[s]! - low) * 255) / range;
      // NaN fails both comparisons and is written as 0 by the Uint8Array
      out[o] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }

  #lut(c: number, m: { low: number; high: number }, base: number): Uint8Array {
    let lut = this.#luts[c];
    if (lut === undefined) {
      lut = new Uint8Array(65536);
      const range = m.high > m.low ? m.high - m.low : 1;
      for (let i = 0; i < 65536; i++) {
        const v = ((i + base - m.low) * 255) / range;
        lut[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
      this.#luts[c] = lut;
    }
    return lut;
  }
}
