/**
 * Map CRS <-> WGS84 longitude/latitude through proj4js: the only file that
 * imports `proj4`. The rest of the code sees {@linkcode Reprojection}.
 *
 * proj4js knows WGS84 and web mercator by itself; the definitions of the
 * projected CRSs that GeoTIFFs usually carry are listed here, as PROJ's own
 * `gdalsrsinfo -o proj4 EPSG:<code>` prints them: UTM zones on WGS84 (326xx
 * north, 327xx south), ETRS89 (258xx) and NAD83 (269xx), web mercator (3857)
 * and a few national grids. Datum shifts are PROJ's 3- or 7-parameter
 * Helmert where PROJ gives one; ETRS89 and NAD83 are taken as WGS84 (as
 * PROJ's ballpark transformation does). A CRS not listed fails with a
 * RangeError naming its EPSG code.
 *
 * @module
 */

import proj4 from "proj4";
import type { Point } from "../geometry/oriented_box.ts";

/** A CRS as a raster's georeference gives it: an EPSG code and/or a WKT string. */
export interface CrsRef {
  /** EPSG code, or `null`. */
  epsg: number | null;
  /** WKT, or `null`. */
  wkt: string | null;
}

/** Converts points between a map CRS and WGS84 longitude/latitude (degrees, longitude first). */
export interface Reprojection {
  /** Map CRS -> WGS84 `{x: lon, y: lat}`. */
  toWgs84(point: Point): Point;
  /** WGS84 `{x: lon, y: lat}` -> map CRS. */
  fromWgs84(point: Point): Point;
}

const UTM = "+proj=utm +units=m +no_defs";

/** National grids and other projected CRSs (PROJ's proj4 strings). */
const NAMED: Record<number, string> = {
  3857:
    "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs",
  // British National Grid; PROJ offers several OSGB36 -> WGS84 transformations
  // (OSTN15 needs a grid): this is EPSG:1314, the 7-parameter one (~2 m).
  27700:
    "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 +ellps=airy +towgs84=446.448,-125.157,542.06,0.15,0.247,0.842,-20.489 +units=m +no_defs",
  // Lambert-93 (France, RGF93)
  2154:
    "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
  // ETRS89 / LAEA Europe
  3035:
    "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
  // MGI / Austria Lambert
  31287:
    "+proj=lcc +lat_0=47.5 +lon_0=13.3333333333333 +lat_1=49 +lat_2=46 +x_0=400000 +y_0=400000 +ellps=bessel +towgs84=577.326,90.129,463.919,5.137,1.474,5.297,2.4232 +units=m +no_defs",
  // CH1903+ / LV95 (Switzerland)
  2056:
    "+proj=somerc +lat_0=46.9524055555556 +lon_0=7.43958333333333 +k_0=1 +x_0=2600000 +y_0=1200000 +ellps=bessel +towgs84=674.374,15.056,405.346,0,0,0,0 +units=m +no_defs",
  // SWEREF99 TM (Sweden)
  3006: "+proj=utm +zone=33 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
  // ETRS89 / Poland CS92
  2180:
    "+proj=tmerc +lat_0=0 +lon_0=19 +k=0.9993 +x_0=500000 +y_0=-5300000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
  // ETRS89 / TM35FIN (Finland)
  3067: "+proj=utm +zone=35 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
  // NAD83 / CONUS Albers
  5070:
    "+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs",
  // WGS84 / NSIDC polar stereographic north and Antarctic polar stereographic
  3413: "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs",
  3031: "+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs",
};

/**
 * The proj4 definition of an EPSG code, or `null` when this table has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { epsgDefinition } from "./reproject.ts";
 *
 * assert.equal(epsgDefinition(32733), "+proj=utm +units=m +no_defs +zone=33 +south +datum=WGS84");
 * assert.equal(epsgDefinition(9999), null);
 * ```
 *
 * @param epsg The EPSG code.
 * @returns A proj4 string, or `null`.
 */
export function epsgDefinition(epsg: number): string | null {
  if (epsg === 4326) return "+proj=longlat +datum=WGS84 +no_defs";
  const zone = epsg % 100;
  const family = Math.floor(epsg / 100);
  if ((family === 326 || family === 327) && zone >= 1 && zone <= 60) {
    return `${UTM} +zone=${zone}${family === 327 ? " +south" : ""} +datum=WGS84`;
  }
  if (family === 258 && zone >= 28 && zone <= 38) {
    return `${UTM} +zone=${zone} +ellps=GRS80 +towgs84=0,0,0,0,0,0,0`;
  }
  if (family === 269 && zone >= 1 && zone <= 23) return `${UTM} +zone=${zone} +datum=NAD83`;
  return NAMED[epsg] ?? null;
}

/** The EPSG codes {@linkcode reprojection} knows, as ranges for messages and docs. */
export const KNOWN_EPSG = "4326, 32601-32660, 32701-32760, 25828-25838, 26901-26923, " +
  Object.keys(NAMED).join(", ");

/**
 * A reprojection between a CRS and WGS84. Throws a RangeError naming the EPSG
 * code when it is not one this module knows (and there is no WKT proj4 can
 * read), or when there is no CRS at all.
 *
 * @example UTM zone 33N
 * ```ts
 * import assert from "node:assert/strict";
 * import { reprojection } from "./reproject.ts";
 *
 * const r = reprojection({ epsg: 32633, wkt: null });
 * const ll = r.toWgs84({ x: 500000, y: 0 });
 * assert.ok(Math.abs(ll.x - 15) < 1e-12 && Math.abs(ll.y) < 1e-12);
 * const back = r.fromWgs84(ll);
 * assert.ok(Math.abs(back.x - 500000) < 1e-6);
 * ```
 *
 * @param crs The map CRS.
 * @returns Both directions.
 */
export function reprojection(crs: CrsRef): Reprojection {
  let definition: string | null = null;
  if (crs.epsg !== null) definition = epsgDefinition(crs.epsg);
  if (definition === null && crs.wkt !== null) definition = crs.wkt;
  if (definition === null) {
    throw new RangeError(
      crs.epsg === null
        ? "Cannot reproject to WGS84: the raster names no CRS"
        : `Cannot reproject EPSG:${crs.epsg} to WGS84: its definition is not known here ` +
          `(known: ${KNOWN_EPSG}); use --crs raster to keep the raster's CRS`,
    );
  }
  let converter;
  try {
    converter = proj4(definition, "WGS84");
  } catch (e) {
    throw new RangeError(
      `Cannot reproject ${
        crs.epsg === null ? "the raster's WKT CRS" : `EPSG:${crs.epsg}`
      } to WGS84: ${(e as Error).message}`,
    );
  }
  return {
    toWgs84: (p) => {
      const [x, y] = converter.forward([p.x, p.y]);
      return { x: x!, y: y! };
    },
    fromWgs84: (p) => {
      const [x, y] = converter.inverse([p.x, p.y]);
      return { x: x!, y: y! };
    },
  };
}
