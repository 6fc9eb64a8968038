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

/**
 * The first of `outputs` that is one of `inputs`, as `{ output, input }`: the
 * same file once symbolic links are resolved, or by its device and inode (a
 * hard link, or the name spelt in another case on a case-insensitive file
 * system); `null` when none is. An output that does not exist is no input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overwrittenInput } from "./paths.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.geojson`, "{}");
 * await Deno.symlink(`${dir}/a.geojson`, `${dir}/b.geojson`);
 * assert.deepEqual(await overwrittenInput([`${dir}/b.geojson`], [`${dir}/a.geojson`]), {
 *   output: `${dir}/b.geojson`,
 *   input: `${dir}/a.geojson`,
 * });
 * assert.equal(await overwrittenInput([`${dir}/c.geojson`], [`${dir}/a.geojson`]), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function overwrittenInput(
  outputs: readonly string[],
  inputs: readonly string[],
): Promise<{ output: string; input: string } | null> {
  const existing: [string, string[]][] = [];
  for (const output of outputs) {
    const keys = await fileKeys(output);
    if (keys !== null) existing.push([output, keys]);
  }
  if (existing.length === 0) return null;
  const inputOf = new Map<string, string>();
  for (const input of inputs) {
    for (const key of (await fileKeys(input)) ?? []) {
      if (!inputOf.has(key)) inputOf.set(key, input);
    }
  }
  for (const [output, keys] of existing) {
    for (const key of keys) {
      const input = inputOf.get(key);
      if (input !== undefined) return { output, input };
    }
  }
  return null;
}

/** What tells a file apart: its real path, and its device and inode where the system has them. */
async function fileKeys(path: string): Promise<string[] | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
  const keys = [`path:${await Deno.realPath(path)}`];
  if (info.ino !== null && info.ino !== 0) keys.push(`inode:${info.dev}:${info.ino}`);
  return keys;
}
