/**
 * Percentiles of band values for the stretch to 8-bit, accumulated window by
 * window so that no more than a bounded sample is ever held.
 *
 * @module
 */

/** A typed array of pixel values. */
export type PixelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

const FLOAT_CAP = 1 << 20;

/**
 * Accumulates the values of one band (nodata, NaN and infinities excluded) and returns
 * percentiles. Integer data of at most 16 bits goes into a 65536-bin
 * histogram (exact, constant memory); other data is collected, then
 * subsampled to at most ~1M values before sorting. Percentile `p` is the
 * smallest value whose cumulative share is at least `p` % (numpy's
 * `inverted_cdf`).
 *
 * @example Usage
 * ```ts
 * import { PercentileSampler } from "./percentile_sampler.ts";
 * const s = new PercentileSampler({ nodata: 0 });
 * s.add(new Uint16Array([0, 0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]));
 * console.log(s.count, s.range(10, 90)); // 10 [ 10, 90 ]
 * ```
 */
export class PercentileSampler {
  #nodata: number | null;
  #hist: Float64Array | null = null;
  #chunks: Float64Array[] = [];
  #count = 0;
  #offset = 0;

  /** @param options `nodata`: value to leave out (default none). */
  constructor(options: { nodata?: number | null } = {}) {
    this.#nodata = options.nodata ?? null;
  }

  /** Number of values accumulated. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds values (every `stride`-th from `values`).
   *
   * @param values The values.
   * @param stride Keep one value in `stride`. @default {1}
   */
  add(values: PixelArray, stride = 1): void {
    const nodata = this.#nodata;
    const n = values.length;
    if (
      values instanceof Uint16Array || values instanceof Int16Array ||
      values instanceof Uint8Array || values instanceof Int8Array
    ) {
      if (this.#chunks.length > 0) throw new TypeError("Cannot add integers after floats");
      const hist = this.#hist ??= new Float64Array(65536);
      const off = values instanceof Int16Array || values instanceof Int8Array ? 32768 : 0;
      if (this.#count > 0 && off !== this.#offset) {
        throw new TypeError("Cannot mix signed and unsigned values");
      }
      this.#offset = off;
      let count = 0;
      for (let i = 0; i < n; i += stride) {
        const v = values[i]!;
        if (v === nodata) continue;
        hist[v + off]!++;
        count++;
      }
      this.#count += count;
      return;
    }
    if (this.#hist !== null) throw new TypeError("Cannot add floats after integers");
    const chunk = new Float64Array(Math.ceil(n / stride));
    let k = 0;
    for (let i = 0; i < n; i += stride) {
      const v = values[i]!;
      if (v - v !== 0 || v === nodata) continue; // NaN and +-Infinity give NaN
      chunk[k++] = v;
    }
    this.#chunks.push(chunk.subarray(0, k));
    this.#count += k;
  }

  /**
   * Returns the `low` and `high` percentiles, or `null` when no value was added.
   *
   * @param low Lower percentile in [0, 100].
   * @param high Upper percentile in [0, 100].
   * @returns `[lowValue, highValue]`.
   */
  range(low: number, high: number): [number, number] | null {
    if (this.#count === 0) return null;
    const total = this.#count;
    const rank = (p: number) => Math.max(1, Math.ceil((p / 100) * total - 1e-9));
    if (this.#hist !== null) {
      const hist = this.#hist;
      const off = this.#offset;
      const find = (r: number) => {
        let acc = 0;
        for (let v = 0; v < 65536; v++) {
          acc += hist[v]!;
          if (acc >= r) return v - off;
        }
        return 65535 - off;
      };
      return [find(rank(low)), find(rank(high))];
    }
    let all = new Float64Array(total);
    let k = 0;
    for (const c of this.#chunks) {
      all.set(c, k);
      k += c.length;
    }
    if (all.length > FLOAT_CAP) {
      const stride = Math.ceil(all.length / FLOAT_CAP);
      const sub = new Float64Array(Math.ceil(all.length / stride));
      for (let i = 0, j = 0; i < all.length; i += stride, j++) sub[j] = all[i]!;
      all = sub;
    }
    all.sort();
    const m = all.length;
    const at = (p: number) => all[Math.min(m, Math.max(1, Math.ceil((p / 100) * m - 1e-9))) - 1]!;
    return [at(low), at(high)];
  }
}
