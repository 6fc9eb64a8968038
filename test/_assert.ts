/**
 * Small assertion helpers for tests (JSR's @std/assert is not reachable).
 *
 * @module
 */

import assert from "node:assert/strict";

/** Asserts `actual` is within `tolerance` of `expected` (absolute). */
export function assertClose(
  actual: number,
  expected: number,
  tolerance = 1e-9,
  message?: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    assert.fail(
      `${message ? message + ": " : ""}expected ${expected} +- ${tolerance}, got ${actual}`,
    );
  }
}

/** Asserts two points are within `tolerance` of each other in both coordinates. */
export function assertPointClose(
  actual: { x: number; y: number },
  expected: { x: number; y: number },
  tolerance = 1e-9,
  message?: string,
): void {
  assertClose(actual.x, expected.x, tolerance, `${message ?? "point"} x`);
  assertClose(actual.y, expected.y, tolerance, `${message ?? "point"} y`);
}

/** A deterministic pseudo-random generator (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { assert };
