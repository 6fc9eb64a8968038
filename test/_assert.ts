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

export { mulberry32 as seededRandom } from "../src/random.ts";

export { assert };
