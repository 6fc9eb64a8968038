/**
 * GDAL's persistent auxiliary metadata (PAM): the `<image>.aux.xml` GDAL writes
 * beside an image it cannot write into (PNG, JPEG, a read-only or baseline
 * TIFF): the CRS, the geotransform and each band's nodata value.
 *
 * @module
 */

import type { Georef } from "./source.ts";

/** What sopseg reads of a `.aux.xml` (absent parts `null` or empty). */
export interface PamDataset {
  /** The path it was read from (named in errors). */
  path: string;
  /** The CRS as GDAL wrote it (`<SRS>`, WKT, XML entities decoded), or `null`. */
  srs: string | null;
  /** `<GeoTransform>` in GDAL order (corner-origin pixel frame), or `null`. */
  geoTransform: Georef["geoTransform"] | null;
  /** `<PAMRasterBand band="N"><NoDataValue>` by 1-based band (NaN kept as NaN). */
  bandNodata: Map<number, number>;
}

/**
 * Parses the text of a GDAL `.aux.xml` (`<PAMDataset>`).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePamDataset } from "./pam_dataset.ts";
 *
 * const pam = parsePamDataset(
 *   "<PAMDataset><GeoTransform> 1e2, 2, 0, 200, 0, -2</GeoTransform>" +
 *     '<PAMRasterBand band="1"><NoDataValue>0</NoDataValue></PAMRasterBand></PAMDataset>',
 *   "a.jpg.aux.xml",
 * );
 * assert.deepEqual(pam.geoTransform, [100, 2, 0, 200, 0, -2]);
 * assert.deepEqual([...pam.bandNodata], [[1, 0]]);
 * ```
 *
 * @param text The file's text.
 * @param path The path named in errors.
 * @returns What it holds.
 */
export function parsePamDataset(text: string, path: string): PamDataset {
  // the dataset's own elements: those outside its bands
  const outside = text.replace(/<PAMRasterBand\b[\s\S]*?<\/PAMRasterBand>/g, "");
  const srs = /<SRS\b[^>]*>([\s\S]*?)<\/SRS>/.exec(outside)?.[1];
  const gtText = /<GeoTransform\b[^>]*>([\s\S]*?)<\/GeoTransform>/.exec(outside)?.[1];
  let geoTransform: PamDataset["geoTransform"] = null;
  if (gtText !== undefined) {
    const v = gtText.split(",").map((s) => s.trim());
    const gt = v.map(Number);
    if (v.length !== 6 || v.some((s) => s === "") || gt.some((x) => !Number.isFinite(x))) {
      throw new SyntaxError(
        `Cannot parse ${path}: <GeoTransform> should hold 6 numbers separated by commas, ` +
          `got "${gtText.trim()}"`,
      );
    }
    geoTransform = gt as [number, number, number, number, number, number];
  }
  const bandNodata = new Map<number, number>();
  for (
    const [, attrs, body] of text.matchAll(/<PAMRasterBand\b([^>]*)>([\s\S]*?)<\/PAMRasterBand>/g)
  ) {
    const band = Number(/\bband="(\d+)"/.exec(attrs!)?.[1]);
    const nd = /<NoDataValue\b[^>]*>([^<]*)<\/NoDataValue>/.exec(body!)?.[1];
    if (!Number.isInteger(band) || nd === undefined) continue;
    const value = parseGdalNodata(nd);
    if (value === null) {
      throw new SyntaxError(
        `Cannot parse ${path}: band ${band}'s <NoDataValue> "${nd.trim()}" is not a number`,
      );
    }
    bandNodata.set(band, value);
  }
  return { path, srs: srs ? unescapeXml(srs).trim() || null : null, geoTransform, bandNodata };
}

/**
 * Reads `<imagePath>.aux.xml` ({@linkcode parsePamDataset}), or `null` when
 * there is none (or it may not be read).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPamDataset } from "./pam_dataset.ts";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(await readPamDataset(`${dir}/a.jpg`), null);
 * await Deno.writeTextFile(`${dir}/a.jpg.aux.xml`, "<PAMDataset><GeoTransform>0,1,0,0,0,-1</GeoTransform></PAMDataset>");
 * assert.deepEqual((await readPamDataset(`${dir}/a.jpg`))?.geoTransform, [0, 1, 0, 0, 0, -1]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param imagePath Path of the image.
 * @returns The parsed file, or `null`.
 */
export async function readPamDataset(imagePath: string): Promise<PamDataset | null> {
  const path = pamPath(imagePath);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
      return null;
    }
    throw error;
  }
  return parsePamDataset(text, path);
}

/**
 * Where GDAL keeps an image's PAM: `<image>.aux.xml`.
 *
 * @example Usage
 * ```ts
 * import { pamPath } from "./pam_dataset.ts";
 * console.log(pamPath("/d/a.tif")); // "/d/a.tif.aux.xml"
 * ```
 */
export function pamPath(imagePath: string): string {
  return `${imagePath}.aux.xml`;
}

/**
 * A nodata value as GDAL writes it (GDAL_NODATA tag, `<NoDataValue>`): a
 * number, `nan`, `inf`, `-inf`; `null` when it is none of them.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGdalNodata } from "./pam_dataset.ts";
 *
 * assert.equal(parseGdalNodata("-9.99900000000000E+03"), -9999);
 * assert.ok(Number.isNaN(parseGdalNodata("nan")));
 * assert.equal(parseGdalNodata("-inf"), -Infinity);
 * assert.equal(parseGdalNodata("none"), null);
 * ```
 *
 * @param text The value's text (NULs and spaces around it ignored).
 * @returns The value, or `null`.
 */
export function parseGdalNodata(text: string): number | null {
  const t = text.replace(/\0/g, "").trim().toLowerCase();
  if (/^[-+]?nan$/.test(t)) return NaN;
  if (/^[-+]?inf(inity)?$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  const v = t === "" ? NaN : Number(t);
  return Number.isNaN(v) ? null : v;
}

/**
 * The one nodata value sopseg applies to the selected bands, from per-band
 * values (GDAL's PAM): the first selected band's that has one (GDAL gives every
 * band the same value when it copies a GDAL_NODATA tag); `null` when none
 * has one or it is NaN (NaN is always treated as missing).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectedBandsNodata } from "./pam_dataset.ts";
 *
 * const bands = new Map([[1, 0], [2, 0], [3, 0], [4, 255]]);
 * assert.equal(selectedBandsNodata(bands, [0, 1, 2]), 0);
 * assert.equal(selectedBandsNodata(bands, [3, 3, 3]), 255);
 * assert.equal(selectedBandsNodata(new Map(), [0, 1, 2]), null);
 * ```
 *
 * @param bandNodata Nodata by 1-based band.
 * @param selected The selected bands, 0-based (R, G, B).
 * @returns The value, or `null`.
 */
export function selectedBandsNodata(
  bandNodata: ReadonlyMap<number, number>,
  selected: readonly number[],
): number | null {
  for (const s of selected) {
    const v = bandNodata.get(s + 1);
    if (v !== undefined) return Number.isNaN(v) ? null : v;
  }
  return null;
}

function unescapeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}
