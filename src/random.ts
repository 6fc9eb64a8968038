/**
 * The one seeded pseudo-random generator of the project (mulberry32), for
 * reproducible prompt noise, image degradation, self-check inputs, test data
 * and example scenes, and the seed mixing that gives each item (a box, an
 * image) its own generator.
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

/**
 * Mixes a seed and a key (e.g. an annotation or image id) into one 32-bit seed
 * (murmur3 finaliser), so each item gets its own generator, `mulberry32(mixSeed(seed, key))`,
 * whatever other items are drawn and in what order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixSeed } from "./random.ts";
 *
 * assert.equal(mixSeed(1, 7), mixSeed(1, 7));
 * assert.notEqual(mixSeed(1, 7), mixSeed(1, 8));
 * assert.notEqual(mixSeed(1, 7), mixSeed(2, 7));
 * ```
 */
export function mixSeed(seed: number, key: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (key >>> 0) ^ Math.floor(key / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
