/**
 * A short fingerprint of the files beside each image that change how it is
 * read (world files, GDAL's `.aux.xml`, `.prj`, `.msk`): their names, sizes
 * and modification times, read without opening any raster. A `--resume`
 * segments again an image whose fingerprint changed (a `.tfw` added, an
 * `.aux.xml` edited: its georeference, nodata or mask may be another).
 *
 * @module
 */
import { georefSidecarNames } from "../raster/world_file.ts";
import { baseName } from "./paths.ts";

/**
 * The fingerprint of each image's sidecar files, in the order of `images`:
 * 16 hex digits of the SHA-256 of their names, sizes and modification times,
 * or `undefined` when the image has none. Cheap on a large folder: each
 * distinct folder is listed once, and only the sidecars found there are
 * stat'ed (names compared regardless of case: GDAL looks for `.tfw` and
 * `.TFW`, and a case-insensitive file system finds either). A folder that
 * cannot be listed counts as one without sidecars (the run fails the image
 * when it opens it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sidecarFingerprints } from "./sidecar_fingerprints.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.tif`, "");
 * await Deno.writeTextFile(`${dir}/b.tif`, "");
 * await Deno.writeTextFile(`${dir}/a.tfw`, "1\n0\n0\n-1\n0\n0\n");
 * const [a, b] = await sidecarFingerprints([`${dir}/a.tif`, `${dir}/b.tif`]);
 * assert.match(a!, /^[0-9a-f]{16}$/);
 * assert.equal(b, undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sidecarFingerprints(
  images: readonly string[],
): Promise<(string | undefined)[]> {
  const listings = new Map<string, Promise<Map<string, string> | null>>();
  const listing = (dir: string) => {
    let names = listings.get(dir);
    if (names === undefined) listings.set(dir, names = listFolder(dir));
    return names;
  };
  const out: (string | undefined)[] = [];
  for (const image of images) {
    const cut = Math.max(image.lastIndexOf("/"), image.lastIndexOf("\\"));
    const dir = cut < 0 ? "." : image.slice(0, cut + 1);
    const names = await listing(dir);
    const found = new Set<string>();
    for (const name of georefSidecarNames(image).map(baseName)) {
      const actual = names?.get(name.toLowerCase());
      if (actual !== undefined) found.add(actual);
    }
    const stats: [string, number, number | null][] = [];
    for (const name of [...found].sort()) {
      try {
        const info = await Deno.stat(cut < 0 ? name : `${dir}${name}`);
        stats.push([name, info.size, info.mtime?.getTime() ?? null]);
      } catch {
        // a link to nothing, removed since the listing, not to be read: none to read either
      }
    }
    out.push(stats.length ? await shortDigest(JSON.stringify(stats)) : undefined);
  }
  return out;
}

/** The names in `dir` by their lower case; `null` when it cannot be listed. */
async function listFolder(dir: string): Promise<Map<string, string> | null> {
  const names = new Map<string, string>();
  try {
    for await (const entry of Deno.readDir(dir)) names.set(entry.name.toLowerCase(), entry.name);
  } catch {
    return null; // not there (yet), or not to be read: opening the image says why
  }
  return names;
}

async function shortDigest(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(hash).subarray(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
