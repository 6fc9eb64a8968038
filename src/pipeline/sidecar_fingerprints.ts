/**
 * A short fingerprint of what the files beside each image (world files,
 * GDAL's `.aux.xml`, `.prj`, `.msk`) tell the raster readers: the bytes of a
 * world file or `.prj`, the fields of an `.aux.xml` that sopseg reads (its
 * geotransform, CRS and band nodata values, not the statistics QGIS or
 * `gdalinfo -stats` add), the size of a `.msk`. Not their modification
 * times: a copy of the inputs (per node, per pod) keeps the fingerprints. A
 * `--resume` segments again an image whose fingerprint changed (a `.tfw`
 * added, an `.aux.xml`'s geotransform edited: its georeference, nodata or
 * mask may be another).
 *
 * @module
 */
import { parsePamDataset } from "../raster/pam_dataset.ts";
import { georefSidecarNames } from "../raster/world_file.ts";
import { baseName, splitPath } from "./paths.ts";
import { sha256Hex } from "../sha256.ts";

/**
 * The fingerprint of an image whose sidecars could not be read when the run
 * planned (a folder not mounted yet or not to be listed, a sidecar that is a
 * link to nothing): a resume keeps the earlier record's value then, as it
 * keeps the digest of a detection file it cannot read.
 */
export const UNKNOWN_SIDECARS = "unknown";

/**
 * The fingerprint of each image's sidecar files, in the order of `images`:
 * 16 hex digits of the SHA-256 of their names and of what the readers take
 * from each, `undefined` when the image has none (or only an `.aux.xml` with
 * nothing sopseg reads), or {@linkcode UNKNOWN_SIDECARS}. Cheap on a large
 * folder: each distinct folder is listed once, and only the sidecars found
 * there are read (names compared regardless of case: GDAL looks for `.tfw`
 * and `.TFW`, and a case-insensitive file system finds either; where both
 * spellings are there, both count).
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
  const listings = new Map<string, Promise<Map<string, string[]> | null>>();
  const listing = (dir: string) => {
    let names = listings.get(dir);
    if (names === undefined) listings.set(dir, names = listFolder(dir));
    return names;
  };
  const out: (string | undefined)[] = [];
  for (const image of images) {
    const { dir } = splitPath(image);
    const names = await listing(dir === "" ? "." : dir);
    if (names === null) {
      out.push(UNKNOWN_SIDECARS);
      continue;
    }
    const found = new Set<string>();
    for (const name of georefSidecarNames(image).map(baseName)) {
      for (const actual of names.get(name.toLowerCase()) ?? []) found.add(actual);
    }
    const parts: [string, string][] = [];
    let unknown = false;
    for (const name of [...found].sort()) {
      const part = await sidecarContent(dir === "" ? name : `${dir.replace(/[\\/]$/, "")}/${name}`);
      if (part === undefined) unknown = true;
      else if (part !== null) parts.push([name, part]);
    }
    out.push(
      unknown
        ? UNKNOWN_SIDECARS
        : parts.length
        ? await sha256Hex(JSON.stringify(parts), 8)
        : undefined,
    );
  }
  return out;
}

/**
 * What the readers take from the sidecar at `path`, as text; `null` for an
 * `.aux.xml` that holds nothing they read; `undefined` when it cannot be read
 * (a link to nothing, not to be read, removed since the listing).
 */
async function sidecarContent(path: string): Promise<string | null | undefined> {
  const lower = path.toLowerCase();
  try {
    if (lower.endsWith(".msk")) return `size ${(await Deno.stat(path)).size}`; // may be large
    const bytes = await Deno.readFile(path);
    if (!lower.endsWith(".aux.xml")) return await sha256Hex(bytes);
    const text = new TextDecoder().decode(bytes);
    let pam;
    try {
      pam = parsePamDataset(text, path);
    } catch {
      return `unparsed ${await sha256Hex(bytes)}`; // the run fails the image: changed when edited
    }
    const { srs, geoTransform, bandNodata } = pam;
    if (srs === null && geoTransform === null && bandNodata.size === 0) return null;
    const nodata = [...bandNodata].sort((x, y) => x[0] - y[0]).map(([b, v]) => [b, String(v)]);
    return JSON.stringify({ srs, geoTransform, nodata });
  } catch {
    return undefined;
  }
}

/** The names in `dir` by their lower case (every spelling); `null` when it cannot be listed. */
async function listFolder(dir: string): Promise<Map<string, string[]> | null> {
  const names = new Map<string, string[]>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      const key = entry.name.toLowerCase();
      names.set(key, [...names.get(key) ?? [], entry.name]);
    }
  } catch {
    return null; // not there (yet), or not to be read: opening the image says why
  }
  return names;
}
