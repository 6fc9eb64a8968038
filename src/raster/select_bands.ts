/**
 * Band selection: which bands of a file become R, G and B.
 *
 * @module
 */

/**
 * Resolves the 1-based `bands` option to three 0-based band indices.
 * Without `bands`: `[0, 1, 2]` for 3 or more bands, else band 0 replicated.
 * One band given: replicated to gray.
 *
 * @example Usage
 * ```ts
 * import { selectBands } from "./select_bands.ts";
 * console.log(selectBands(undefined, { bandCount: 4, path: "a.tif" })); // [ 0, 1, 2 ]
 * console.log(selectBands([4, 3, 2], { bandCount: 4, path: "a.tif" })); // [ 3, 2, 1 ]
 * console.log(selectBands([2], { bandCount: 4, path: "a.tif" })); // [ 1, 1, 1 ]
 * console.log(selectBands(undefined, { bandCount: 1, path: "a.tif" })); // [ 0, 0, 0 ]
 * ```
 *
 * @param bands 1-based band numbers (one or three), or `undefined` for the default.
 * @param options The file's band count and the path named in errors.
 * @returns 0-based indices of the bands used as R, G, B.
 */
export function selectBands(
  bands: readonly number[] | undefined,
  options: {
    /** Number of bands in the file. */
    bandCount: number;
    /** Path named in error messages. */
    path: string;
  },
): [number, number, number] {
  const { bandCount, path } = options;
  if (bands === undefined) return bandCount >= 3 ? [0, 1, 2] : [0, 0, 0];
  if (bands.length !== 1 && bands.length !== 3) {
    throw new RangeError(
      `Cannot select bands [${
        bands.join(", ")
      }] of ${path}: give 1 or 3 band numbers, not ${bands.length}`,
    );
  }
  for (const b of bands) {
    if (!Number.isInteger(b) || b < 1 || b > bandCount) {
      throw new RangeError(
        `Cannot select band ${b} of ${path}: bands are numbered 1 to ${bandCount}`,
      );
    }
  }
  const [r, g, b] = bands.length === 1 ? [bands[0]!, bands[0]!, bands[0]!] : bands;
  return [r! - 1, g! - 1, b! - 1];
}
