/**
 * Validation of pixel windows.
 *
 * @module
 */

import type { Window } from "./source.ts";

/**
 * Throws unless `window` is an integer window inside a `width x height` image
 * (`0 <= x0 <= x1 <= width`, same for y).
 *
 * @example Usage
 * ```ts
 * import { checkWindow } from "./check_window.ts";
 * checkWindow([0, 0, 10, 10], { width: 10, height: 10, path: "a.tif" }); // fine
 * try {
 *   checkWindow([5, 0, 11, 10], { width: 10, height: 10, path: "a.tif" });
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // Cannot read window [5, 0, 11, 10] of a.tif: outside the 10x10 image
 * }
 * ```
 *
 * @param window The window.
 * @param options The image size and the path used in messages.
 */
export function checkWindow(
  window: Window,
  options: {
    /** Image width. */
    width: number;
    /** Image height. */
    height: number;
    /** Path named in error messages. */
    path: string;
  },
): void {
  const [x0, y0, x1, y1] = window;
  const { width, height, path } = options;
  if (
    window.length !== 4 || !Number.isInteger(x0) || !Number.isInteger(y0) ||
    !Number.isInteger(x1) || !Number.isInteger(y1)
  ) {
    throw new TypeError(
      `Cannot read window [${window.join(", ")}] of ${path}: expected 4 integers [x0, y0, x1, y1]`,
    );
  }
  if (x0 < 0 || y0 < 0 || x1 > width || y1 > height || x0 > x1 || y0 > y1) {
    throw new RangeError(
      `Cannot read window [${window.join(", ")}] of ${path}: outside the ${width}x${height} image`,
    );
  }
}
