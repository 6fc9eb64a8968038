/**
 * The one seeded pseudo-random generator of the project (mulberry32), for
 * reproducible prompt noise, self-check inputs, test data and example scenes.
 *
 * @module
 */

/**
 * The mulberry32 generator: uniform numbers in `[0, 1)` from a 32-bit seed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32 } from "./random.ts";
 *
 * const a = mulberry32(42), b = mulberry32(42);
 * assert.equal(a(), b());
 * ```
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
