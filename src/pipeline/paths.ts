/**
 * Small path helpers the pipeline's run, merge and single-image front ends share.
 *
 * @module
 */

/**
 * Whether something exists at `path` (a missing path is `false`; any other
 * error, e.g. a permission refused, is thrown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathExists } from "./paths.ts";
 *
 * assert.equal(await pathExists("/surely/not/here"), false);
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The last component of a path, `/` or `\` separated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseName } from "./paths.ts";
 *
 * assert.equal(baseName("a/b\\c.png"), "c.png");
 * ```
 */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}
