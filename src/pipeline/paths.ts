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
 * The first of `outputs` that is one of `inputs`, as `{ output, input }`; `null`
 * when none is. An output that does not exist is no input. Cheap on a large
 * run: each distinct folder is resolved once (`realPath`, so a linked folder
 * is seen through) and each output folder listed once; an input is stat'ed
 * only when its name is an output's name (in any case), and then compared by
 * its device and inode: a file with a name of its own cannot be replaced by a
 * write to another name. An output that is a symbolic link counts as the file
 * it names. Within those names it finds the same file spelt through a linked
 * folder, a linked or hard-linked file, and the name in another case on a
 * case-insensitive file system. An input that is a symbolic link under a name
 * of its own (`latest.json` to `out/coco.json`) is found too: each input
 * folder is listed once, and only the entries that are links are resolved
 * (`realPath`) and compared with the outputs' real paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overwrittenInput } from "./paths.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/out`);
 * await Deno.writeTextFile(`${dir}/a.geojson`, "{}");
 * await Deno.symlink(dir, `${dir}/linked`);
 * await Deno.writeTextFile(`${dir}/out/a.geojson`, "{}");
 * assert.deepEqual(await overwrittenInput([`${dir}/linked/a.geojson`], [`${dir}/a.geojson`]), {
 *   output: `${dir}/linked/a.geojson`,
 *   input: `${dir}/a.geojson`,
 * });
 * assert.equal(await overwrittenInput([`${dir}/out/a.geojson`], [`${dir}/a.geojson`]), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function overwrittenInput(
  outputs: readonly string[],
  inputs: readonly string[],
): Promise<{ output: string; input: string } | null> {
  const realDirs = new Map<string, Promise<string | null>>();
  const realDir = (dir: string) => {
    let real = realDirs.get(dir);
    if (real === undefined) realDirs.set(dir, real = realPathOrNull(dir || "."));
    return real;
  };
  const listings = new Map<string, Promise<Map<string, Deno.DirEntry[]> | null>>();
  const listing = (dir: string) => {
    let entries = listings.get(dir);
    if (entries === undefined) listings.set(dir, entries = listFolder(dir || "."));
    return entries;
  };
  // the outputs there, by the lower case of their real name
  const existing = new Map<string, { output: string; real: string; info?: Deno.FileInfo }[]>();
  for (const output of outputs) {
    const { dir, base } = splitPath(output);
    const spelt = (await listing(dir))?.get(base.toLowerCase()) ?? [];
    let entry = spelt.find((e) => e.name === base);
    // there in another case only: the same file where the file system ignores case
    if (entry === undefined && spelt.length && await statOrNull(output) !== null) entry = spelt[0];
    if (entry === undefined) continue;
    const real = entry.isSymlink
      ? await realPathOrNull(output) // a link to nothing: writing it replaces the link only
      : joinReal(await realDir(dir), entry.name);
    if (real === null) continue;
    const key = baseName(real).toLowerCase();
    existing.set(key, [...existing.get(key) ?? [], { output, real }]);
  }
  if (existing.size === 0) return null;
  // the input folders' listings: one that may not be listed (only the file is granted) is null
  const inputListings = new Map<string, Promise<Map<string, Deno.DirEntry[]> | null>>();
  const isLink = async (input: string, dir: string, base: string) => {
    let entries = inputListings.get(dir);
    if (entries === undefined) {
      inputListings.set(dir, entries = listFolder(dir || ".").catch(() => null));
    }
    const listed = await entries;
    if (listed === null) return await Deno.lstat(input).then((i) => i.isSymlink, () => false);
    const spelt = listed.get(base.toLowerCase()) ?? [];
    const entry = spelt.find((e) => e.name === base) ?? (spelt.length === 1 ? spelt[0] : undefined);
    return entry?.isSymlink ?? false;
  };
  const byReal = new Map<string, string>();
  for (const named of existing.values()) for (const o of named) byReal.set(o.real, o.output);
  for (const input of inputs) {
    const { dir, base } = splitPath(input);
    // a link under another name to an output: a write there replaces what the link names
    if (await isLink(input, dir, base)) {
      const target = await Deno.realPath(input).then((r) => r.replaceAll("\\", "/"), () => null);
      const output = target === null ? undefined : byReal.get(target);
      if (output !== undefined) return { output, input };
    }
    const named = existing.get(base.toLowerCase());
    if (named === undefined) continue; // no output has its name: not one of them
    const real = joinReal(await realDir(dir), base);
    if (real === null) continue;
    const same = named.find((o) => o.real === real);
    if (same !== undefined) return { output: same.output, input };
    const info = await statOrNull(input);
    if (info === null) continue;
    for (const o of named) {
      o.info ??= (await statOrNull(o.output)) ?? undefined;
      if (o.info === undefined) continue;
      const hit = info.ino !== null && info.ino !== 0 && o.info.ino !== null
        ? info.dev === o.info.dev && info.ino === o.info.ino
        : await realPathOrNull(input) === o.real; // no inodes here: the real paths
      if (hit) return { output: o.output, input };
    }
  }
  return null;
}

/** A path's folder (`""` for none, `/` at the root) and its last name. */
export function splitPath(path: string): { dir: string; base: string } {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return { dir: cut < 0 ? "" : path.slice(0, cut) || "/", base: path.slice(cut + 1) };
}

/** `dir/base` with `/` between and `/` for `\\` (Windows' real paths); `null` without `dir`. */
function joinReal(dir: string | null, base: string): string | null {
  return dir === null ? null : `${dir.replace(/[\\/]+$/, "")}/${base}`.replaceAll("\\", "/");
}

const gone = (e: unknown) =>
  e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory;

async function realPathOrNull(path: string): Promise<string | null> {
  try {
    return (await Deno.realPath(path)).replaceAll("\\", "/");
  } catch (e) {
    if (gone(e)) return null;
    throw e;
  }
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (gone(e)) return null;
    throw e;
  }
}

/** The entries of `dir` by the lower case of their names; `null` when it is not there. */
async function listFolder(dir: string): Promise<Map<string, Deno.DirEntry[]> | null> {
  const entries = new Map<string, Deno.DirEntry[]>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      const key = entry.name.toLowerCase();
      entries.set(key, [...entries.get(key) ?? [], entry]);
    }
  } catch (e) {
    if (gone(e)) return null;
    throw e;
  }
  return entries;
}
