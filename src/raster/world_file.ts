/**
 * ESRI world files (`.tfw`, `.pgw`, `.jgw`, `.wld`, ...) and the georeference
 * GDAL reads from the files beside an image: a world file or the
 * `<GeoTransform>` of its `.aux.xml`, with the CRS of the `.aux.xml` (and, where
 * GDAL finds no CRS at all, of an ESRI `.prj`, which GDAL does not read).
 *
 * @module
 */

import { pamPath, readPamDataset } from "./pam_dataset.ts";
import type { Georef } from "./source.ts";

/**
 * Parses a world file (six numbers A, D, B, E, C, F, one a line; C, F the
 * centre of the top-left pixel) into the GDAL geotransform of the
 * corner-origin pixel frame. Blank lines are skipped, lines after the sixth
 * number ignored, as GDAL does.
 *
 * @example Usage
 * ```ts
 * import { parseWorldFile } from "./world_file.ts";
 * console.log(parseWorldFile("2\n0\n0\n-2\n101\n199\n", "a.pgw"));
 * // [ 100, 2, 0, 200, 0, -2 ]
 * ```
 *
 * @param text The file's text.
 * @param path The path named in errors.
 * @returns The geotransform.
 */
export function parseWorldFile(
  text: string,
  path: string,
): [number, number, number, number, number, number] {
  const v: number[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length && v.length < 6; i++) {
    for (const token of lines[i]!.trim().split(/\s+/).filter((t) => t !== "")) {
      const x = Number(token.replace(/,$/, ""));
      if (!Number.isFinite(x)) {
        throw new SyntaxError(
          `Cannot parse world file ${path}: line ${i + 1} ("${lines[i]!.trim()}") is not a number`,
        );
      }
      if (v.length < 6) v.push(x);
    }
  }
  if (v.length < 6) {
    throw new SyntaxError(
      `Cannot parse world file ${path}: expected 6 numbers (one a line), found ${v.length}`,
    );
  }
  const [a, d, b, e, c, f] = v as [number, number, number, number, number, number];
  if ((a === 0 && b === 0) || (d === 0 && e === 0)) {
    throw new SyntaxError(
      `Cannot parse world file ${path}: its pixel size is zero (lines 1-4: ${a}, ${d}, ${b}, ${e})`,
    );
  }
  return [c - 0.5 * a - 0.5 * b, a, b, f - 0.5 * d - 0.5 * e, d, e];
}

/**
 * The world file names GDAL looks for beside `imagePath`, in its order:
 * `<name>.<e1><e3>w` (`.tfw`, `.pgw`, `.jgw`), `<name>.<ext>w` (`.tifw`,
 * `.pngw`), `<name>.wld`, each as written, in lower and in upper case.
 */
function worldFileNames(imagePath: string): string[] {
  const m = /^(.*)\.([^./\\]+)$/.exec(imagePath);
  if (m === null) return [];
  const [, stem, ext] = m as unknown as [string, string, string];
  const short = ext.length >= 3 ? `${ext[0]}${ext[ext.length - 1]}w` : `${ext}w`;
  const candidates = [short, `${ext}w`, "wld"].flatMap((e) => [
    e,
    e.toLowerCase(),
    e.toUpperCase(),
  ]);
  return [...new Set(candidates)].map((e) => `${stem}.${e}`);
}

/** The CRS files {@linkcode readSidecarCrs} looks for, in its order. */
function crsFileNames(imagePath: string): string[] {
  const stem = imagePath.replace(/\.[^./\\]+$/, "");
  return [pamPath(imagePath), `${stem}.prj`, `${imagePath}.prj`];
}

/**
 * The names of GDAL's external mask of `imagePath` (`<image>.msk`, what
 * `GDAL_TIFF_INTERNAL_MASK=NO` writes), in the order GDAL looks for them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskFileNames } from "./world_file.ts";
 *
 * assert.deepEqual(maskFileNames("/d/a.tif"), ["/d/a.tif.msk", "/d/a.tif.MSK"]);
 * ```
 */
export function maskFileNames(imagePath: string): string[] {
  return [`${imagePath}.msk`, `${imagePath}.MSK`];
}

/**
 * Every file beside `imagePath` that changes how it is read, there or not:
 * world files, GDAL's `.aux.xml` (CRS, geotransform, nodata), `.prj`, and
 * GDAL's external mask `.msk`. What a cache of opened images must watch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { georefSidecarNames } from "./world_file.ts";
 *
 * assert.deepEqual(georefSidecarNames("/d/a.png").slice(0, 2), ["/d/a.pgw", "/d/a.PGW"]);
 * assert.ok(georefSidecarNames("/d/a.png").includes("/d/a.png.aux.xml"));
 * assert.ok(georefSidecarNames("/d/a.tif").includes("/d/a.tifw"));
 * assert.ok(georefSidecarNames("/d/a.tif").includes("/d/a.tif.msk"));
 * ```
 */
export function georefSidecarNames(imagePath: string): string[] {
  return [...worldFileNames(imagePath), ...crsFileNames(imagePath), ...maskFileNames(imagePath)];
}

/**
 * The first world file GDAL would find beside `imagePath` (see
 * {@linkcode readWorldFile} for the names) and its geotransform, or `null`
 * when there is none.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findWorldFile } from "./world_file.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.tfw`, "1\n0\n0\n-1\n10.5\n20.5\n");
 * assert.deepEqual(await findWorldFile(`${dir}/a.tif`), {
 *   path: `${dir}/a.tfw`,
 *   geoTransform: [10, 1, 0, 21, 0, -1],
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param imagePath Path of the image.
 * @returns The world file's path and geotransform, or `null`.
 */
export async function findWorldFile(
  imagePath: string,
): Promise<{ path: string; geoTransform: Georef["geoTransform"] } | null> {
  for (const path of worldFileNames(imagePath)) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
        continue;
      }
      throw error;
    }
    return { path, geoTransform: parseWorldFile(text, path) };
  }
  return null;
}

/**
 * Looks for a world file beside `imagePath` (`<name>.<e1><e3>w`, e.g. `.tfw`,
 * `.pgw`, `.jgw`; `<name>.<ext>w`; `<name>.wld`; in lower or upper case) and
 * returns its georeference, its CRS from a sidecar ({@linkcode readSidecarCrs})
 * when there is one, or `null` when there is no world file.
 *
 * @example Usage
 * ```ts
 * import { readWorldFile } from "./world_file.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.pgw`, "1\n0\n0\n-1\n10.5\n20.5\n");
 * console.log((await readWorldFile(`${dir}/a.png`))?.geoTransform); // [ 10, 1, 0, 21, 0, -1 ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param imagePath Path of the image.
 * @returns The georeference, or `null`.
 */
export async function readWorldFile(imagePath: string): Promise<Georef | null> {
  const world = await findWorldFile(imagePath);
  return world === null ? null : withSidecarCrs(world.geoTransform, imagePath);
}

/** Options of {@linkcode readSidecarGeoref}. */
export interface ReadSidecarGeorefOptions {
  /**
   * Whether a world file wins over the `.aux.xml` `<GeoTransform>`: GDAL's PNG
   * driver reads it first; its JPEG and GTiff drivers read the PAM first.
   * @default {false}
   */
  worldFileFirst?: boolean;
}

/**
 * The georeference GDAL reads beside an image that has none inside it (PNG,
 * JPEG): the `<GeoTransform>` of `<image>.aux.xml` (what `gdal_translate -of
 * JPEG` writes) or a world file ({@linkcode readWorldFile}), in the order
 * `options` gives, with the CRS of {@linkcode readSidecarCrs}; `null` when
 * neither is there.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSidecarGeoref } from "./world_file.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.jpg.aux.xml`, "<PAMDataset><GeoTransform>5,1,0,9,0,-1</GeoTransform></PAMDataset>");
 * await Deno.writeTextFile(`${dir}/a.jgw`, "2\n0\n0\n-2\n1\n1\n");
 * assert.deepEqual((await readSidecarGeoref(`${dir}/a.jpg`))?.geoTransform, [5, 1, 0, 9, 0, -1]);
 * const worldFirst = await readSidecarGeoref(`${dir}/a.jpg`, { worldFileFirst: true });
 * assert.deepEqual(worldFirst?.geoTransform, [0, 2, 0, 2, 0, -2]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param imagePath Path of the image.
 * @param options Which source wins.
 * @returns The georeference, or `null`.
 */
export async function readSidecarGeoref(
  imagePath: string,
  options: ReadSidecarGeorefOptions = {},
): Promise<Georef | null> {
  const pam = async () => (await readPamDataset(imagePath))?.geoTransform ?? null;
  const world = async () => (await findWorldFile(imagePath))?.geoTransform ?? null;
  const geoTransform = options.worldFileFirst
    ? await world() ?? await pam()
    : await pam() ?? await world();
  return geoTransform === null ? null : withSidecarCrs(geoTransform, imagePath);
}

async function withSidecarCrs(
  geoTransform: Georef["geoTransform"],
  imagePath: string,
): Promise<Georef> {
  const crs = await readSidecarCrs(imagePath);
  return { geoTransform, epsg: crs?.epsg ?? null, wkt: crs?.wkt ?? null };
}

/**
 * The EPSG code a WKT CRS names for itself (the authority of its outermost
 * object: WKT1's last `AUTHORITY["EPSG","<code>"]`, WKT2's `ID["EPSG",<code>]`),
 * or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wktEpsg } from "./world_file.ts";
 *
 * assert.equal(wktEpsg('PROJCS["UTM 33N",GEOGCS["WGS 84",AUTHORITY["EPSG","4326"]],AUTHORITY["EPSG","32633"]]'), 32633);
 * assert.equal(wktEpsg('PROJCS["UTM 33N",GEOGCS["WGS 84",AUTHORITY["EPSG","4326"]]]'), null);
 * ```
 */
export function wktEpsg(wkt: string): number | null {
  const m = /(?:AUTHORITY\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]|ID\[\s*"EPSG"\s*,\s*(\d+)\s*\])\s*\]\s*$/i
    .exec(wkt.trim());
  return m ? Number(m[1] ?? m[2]) : null;
}

/**
 * The CRS a sidecar's text names: a WKT (GDAL's `<SRS>`, an ESRI `.prj`) with
 * the EPSG code it names for itself ({@linkcode wktEpsg}), or the
 * `EPSG:<code>` that GDAL also accepts in an `<SRS>` (then no WKT).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sidecarCrs } from "./world_file.ts";
 *
 * assert.deepEqual(sidecarCrs(" epsg:4326 "), { epsg: 4326, wkt: null });
 * assert.deepEqual(sidecarCrs('GEOGCS["x",AUTHORITY["EPSG","4326"]]'), {
 *   epsg: 4326,
 *   wkt: 'GEOGCS["x",AUTHORITY["EPSG","4326"]]',
 * });
 * ```
 *
 * @param text The text (spaces around it ignored).
 * @returns The EPSG code and WKT, each `null` when not given.
 */
export function sidecarCrs(text: string): { epsg: number | null; wkt: string | null } {
  const wkt = text.trim();
  const code = /^EPSG:(\d+)$/i.exec(wkt)?.[1];
  return code === undefined ? { epsg: wktEpsg(wkt), wkt } : { epsg: Number(code), wkt: null };
}

/**
 * The CRS of an ESRI `.prj` beside `imagePath` (`<stem>.prj`, else
 * `<image>.prj`; {@linkcode sidecarCrs}), or `null` when there is none.
 * GDAL's GTiff, PNG and JPEG drivers do not read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPrjCrs } from "./world_file.ts";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(await readPrjCrs(`${dir}/a.tif`), null);
 * await Deno.writeTextFile(`${dir}/a.prj`, 'GEOGCS["x",AUTHORITY["EPSG","4326"]]\n');
 * assert.equal((await readPrjCrs(`${dir}/a.tif`))?.epsg, 4326);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param imagePath Path of the image.
 * @returns The CRS, or `null`.
 */
export async function readPrjCrs(
  imagePath: string,
): Promise<{ epsg: number | null; wkt: string | null } | null> {
  const [, ...prjPaths] = crsFileNames(imagePath);
  for (const prj of prjPaths) {
    const text = (await Deno.readTextFile(prj).catch((e) => {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotCapable) return null;
      throw e;
    }))?.trim();
    if (text) return sidecarCrs(text);
  }
  return null;
}

/**
 * The CRS that GIS software writes beside an image: the `<SRS>` of GDAL's
 * `<image>.aux.xml`, else an ESRI `.prj` ({@linkcode readPrjCrs}), with the
 * EPSG code it names ({@linkcode sidecarCrs}); `null` when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSidecarCrs } from "./world_file.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(
 *   `${dir}/a.png.aux.xml`,
 *   '<PAMDataset><SRS dataAxisToSRSAxisMapping="1,2">PROJCS[&quot;UTM&quot;,AUTHORITY[&quot;EPSG&quot;,&quot;32633&quot;]]</SRS></PAMDataset>',
 * );
 * assert.deepEqual(await readSidecarCrs(`${dir}/a.png`), {
 *   epsg: 32633,
 *   wkt: 'PROJCS["UTM",AUTHORITY["EPSG","32633"]]',
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readSidecarCrs(
  imagePath: string,
): Promise<{ epsg: number | null; wkt: string | null } | null> {
  const srs = (await readPamDataset(imagePath))?.srs ?? null;
  return srs ? sidecarCrs(srs) : await readPrjCrs(imagePath);
}
