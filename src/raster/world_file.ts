/**
 * ESRI world files (`.pgw`, `.jgw`, `.wld`, ...) beside PNG/JPEG images.
 *
 * @module
 */

import type { Georef } from "./source.ts";

/**
 * Parses a world file (six numbers A, D, B, E, C, F; C, F the centre of the
 * top-left pixel) into the GDAL geotransform of the corner-origin pixel frame.
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
  const v = text.trim().split(/\s+/).map(Number);
  if (v.length < 6 || v.slice(0, 6).some((x) => !Number.isFinite(x))) {
    throw new SyntaxError(`Cannot parse world file ${path}: expected 6 numbers`);
  }
  const [a, d, b, e, c, f] = v as [number, number, number, number, number, number];
  return [c - 0.5 * a - 0.5 * b, a, b, f - 0.5 * d - 0.5 * e, d, e];
}

/** The world file names `imagePath` may have, in the order they are looked for. */
function worldFileNames(imagePath: string): string[] {
  const m = /^(.*)\.([^./\\]+)$/.exec(imagePath);
  if (m === null) return [];
  const [, stem, ext] = m as unknown as [string, string, string];
  const short = ext.length >= 3 ? `${ext[0]}${ext[ext.length - 1]}w` : `${ext}w`;
  const candidates = [short, `${ext}w`, "wld"].flatMap((e) => [e, e.toUpperCase()]);
  return [...new Set(candidates)].map((e) => `${stem}.${e}`);
}

/** The CRS files {@linkcode readSidecarCrs} looks for, in its order. */
function crsFileNames(imagePath: string): string[] {
  const stem = imagePath.replace(/\.[^./\\]+$/, "");
  return [`${imagePath}.aux.xml`, `${stem}.prj`, `${imagePath}.prj`];
}

/**
 * Every file beside `imagePath` that can georeference it (world files, GDAL's
 * `.aux.xml`, `.prj`), there or not: what a cache of opened images must watch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { georefSidecarNames } from "./world_file.ts";
 *
 * assert.deepEqual(georefSidecarNames("/d/a.png").slice(0, 2), ["/d/a.pgw", "/d/a.PGW"]);
 * assert.ok(georefSidecarNames("/d/a.png").includes("/d/a.png.aux.xml"));
 * ```
 */
export function georefSidecarNames(imagePath: string): string[] {
  return [...worldFileNames(imagePath), ...crsFileNames(imagePath)];
}

/**
 * Looks for a world file beside `imagePath` (`<name>.<e1><e3>w`, e.g. `.pgw`,
 * `.jgw`; `<name>.<ext>w`; `<name>.wld`) and returns its georeference, its
 * CRS from a sidecar ({@linkcode readSidecarCrs}) when there is one, or `null`
 * when there is no world file.
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
  for (const path of worldFileNames(imagePath)) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const crs = await readSidecarCrs(imagePath);
    return {
      geoTransform: parseWorldFile(text, path),
      epsg: crs?.epsg ?? null,
      wkt: crs?.wkt ?? null,
    };
  }
  return null;
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
 * The CRS that GIS software writes beside an image: the `<SRS>` of GDAL's
 * `<image>.aux.xml`, else an ESRI `.prj` (`<stem>.prj` or `<image>.prj`), as
 * WKT with the EPSG code it names ({@linkcode wktEpsg}); `null` when there is
 * none.
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
): Promise<{ epsg: number | null; wkt: string } | null> {
  const read = (path: string) =>
    Deno.readTextFile(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotCapable) return null;
      throw e;
    });
  const [auxPath, ...prjPaths] = crsFileNames(imagePath) as [string, ...string[]];
  const aux = await read(auxPath);
  const srs = aux === null ? null : /<SRS\b[^>]*>([\s\S]*?)<\/SRS>/.exec(aux)?.[1];
  let wkt = srs ? unescapeXml(srs).trim() : null;
  for (const prj of prjPaths) {
    if (!wkt) wkt = (await read(prj))?.trim() || null;
  }
  return wkt ? { epsg: wktEpsg(wkt), wkt } : null;
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
