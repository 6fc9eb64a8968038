/**
 * The CRS a GeoTIFF's GeoKeys describe: an EPSG code when they name one, else a
 * WKT built from the keys of a user-defined CRS (GDAL writes such keys for a
 * CRS without an EPSG code: a local Transverse Mercator, a custom Lambert or
 * Albers grid, MODIS's sinusoidal), else nothing and a note saying why.
 *
 * The WKT is GDAL's WKT1 (`PROJCS`/`GEOGCS`), which proj4js reads for
 * reprojection and FlatGeobuf stores. Datums: WGS 84, and ETRS89, NAD83 and
 * GDA94 taken as WGS 84 (PROJ's null transformations between them); a datum
 * that is not one of these but only an ellipsoid ("unknown based on GRS80
 * ellipsoid") is taken as WGS 84 as PROJ's ballpark transformation does. A named
 * datum that needs a shift (NAD27, ED50, ...) is not guessed.
 *
 * @module
 */

/** What {@linkcode geoKeysCrs} found. */
export interface GeoKeysCrs {
  /** The EPSG code the keys name, or `null`. */
  epsg: number | null;
  /** A WKT built from a user-defined CRS's keys, or `null`. */
  wkt: string | null;
  /** Why neither could be given although the keys describe a CRS; absent otherwise. */
  note?: string;
}

const GEOG_DOUBLE_PARAMS = 34736;
const USER_DEFINED = 32767;

const K = {
  modelType: 1024,
  geographicType: 2048,
  geodeticDatum: 2050,
  primeMeridian: 2051,
  angularUnits: 2054,
  ellipsoid: 2056,
  semiMajor: 2057,
  semiMinor: 2058,
  invFlattening: 2059,
  primeMeridianLong: 2061,
  projectedType: 3072,
  projection: 3074,
  coordTrans: 3075,
  linearUnits: 3076,
  linearUnitSize: 3077,
  stdParallel1: 3078,
  stdParallel2: 3079,
  natOriginLong: 3080,
  natOriginLat: 3081,
  falseEasting: 3082,
  falseNorthing: 3083,
  falseOriginLong: 3084,
  falseOriginLat: 3085,
  falseOriginEasting: 3086,
  falseOriginNorthing: 3087,
  centerLong: 3088,
  centerLat: 3089,
  centerEasting: 3090,
  centerNorthing: 3091,
  scaleAtNatOrigin: 3092,
  scaleAtCenter: 3093,
  straightVertPoleLong: 3095,
} as const;

/** Ellipsoids by EPSG code: semi-major axis, inverse flattening. */
const ELLIPSOIDS: Record<number, [string, number, number]> = {
  7030: ["WGS 84", 6378137, 298.257223563],
  7019: ["GRS 1980", 6378137, 298.257222101],
  7022: ["International 1924", 6378388, 297],
  7004: ["Bessel 1841", 6377397.155, 299.1528128],
  7001: ["Airy 1830", 6377563.396, 299.3249646],
  7008: ["Clarke 1866", 6378206.4, 294.978698213898],
  7024: ["Krassowsky 1940", 6378245, 298.3],
  7043: ["WGS 72", 6378135, 298.26],
};

/**
 * Geographic CRSs (and their datums' codes) taken as WGS 84: PROJ transforms
 * between them and WGS 84 with a null transformation.
 */
const AS_WGS84: Record<number, [string, number]> = {
  4326: ["WGS 84", 7030],
  4258: ["ETRS89", 7019],
  4269: ["NAD83", 7019],
  4283: ["GDA94", 7019],
};
const DATUM_TO_GCS: Record<number, number> = { 6326: 4326, 6258: 4258, 6269: 4269, 6283: 4283 };

/** Linear units by EPSG code: name, metres per unit. */
const LINEAR_UNITS: Record<number, [string, number]> = {
  9001: ["metre", 1],
  9002: ["foot", 0.3048],
  9003: ["US survey foot", 0.30480060960121924],
};

/**
 * Reads every GeoKey with a numeric value: SHORT values stored in the
 * directory and the first of a key's doubles in GeoDoubleParams.
 *
 * @example Usage
 * ```ts
 * import { geoKeyValues } from "./geokeys_crs.ts";
 * const keys = geoKeyValues([1, 1, 0, 2, 3072, 0, 1, 32767, 3082, 34736, 1, 0], [500000]);
 * console.log(keys.get(3072), keys.get(3082)); // 32767 500000
 * ```
 *
 * @param directory The GeoKeyDirectoryTag values.
 * @param doubles The GeoDoubleParamsTag values, if any.
 * @returns Key id -> value.
 */
export function geoKeyValues(
  directory: ArrayLike<number>,
  doubles?: ArrayLike<number>,
): Map<number, number> {
  const keys = new Map<number, number>();
  const n = directory[3] ?? 0;
  for (let k = 1; k <= n && 4 * k + 3 < directory.length; k++) {
    const id = directory[4 * k]!, location = directory[4 * k + 1]!;
    const value = directory[4 * k + 3]!;
    if (location === 0) keys.set(id, value);
    else if (location === GEOG_DOUBLE_PARAMS && doubles && value < doubles.length) {
      keys.set(id, doubles[value]!);
    }
  }
  return keys;
}

const num = (v: number) => String(Number(v.toPrecision(15)));
const param = (name: string, v: number) => `PARAMETER["${name}",${num(v)}]`;

/** The GEOGCS of the keys, or a reason why there is none. */
function geogcs(keys: Map<number, number>): { wkt: string; rf: number } | { why: string } {
  const angular = keys.get(K.angularUnits);
  if (angular !== undefined && angular !== 9102 && angular !== 9122) {
    return { why: `its angular unit (EPSG:${angular}) is not degrees` };
  }
  const pm = keys.get(K.primeMeridian);
  if (
    (pm !== undefined && pm !== 8901 && pm !== USER_DEFINED) ||
    (keys.get(K.primeMeridianLong) ?? 0) !== 0
  ) {
    return { why: "its prime meridian is not Greenwich" };
  }
  const tail = 'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]';
  let gcs = keys.get(K.geographicType);
  if (gcs === USER_DEFINED || gcs === undefined) {
    const datum = keys.get(K.geodeticDatum);
    if (datum !== undefined && datum !== USER_DEFINED) {
      if (DATUM_TO_GCS[datum] === undefined) {
        return { why: `its datum EPSG:${datum} needs a shift to WGS 84 that sopseg does not know` };
      }
      gcs = DATUM_TO_GCS[datum];
    }
  }
  if (gcs !== undefined && gcs !== USER_DEFINED) {
    const known = AS_WGS84[gcs];
    if (known === undefined) {
      return {
        why: `its geographic CRS EPSG:${gcs} needs a datum shift that sopseg does not know`,
      };
    }
    const [ename, a, rf] = ELLIPSOIDS[known[1]]!;
    const datum = gcs === 4326 ? "WGS_1984" : known[0];
    return {
      wkt: `GEOGCS["${known[0]}",DATUM["${datum}",SPHEROID["${ename}",${a},${rf}]],${tail}`,
      rf,
    };
  }
  // a datum known by its ellipsoid only
  let ellipsoid: [string, number, number] | undefined;
  const code = keys.get(K.ellipsoid);
  if (code !== undefined && code !== USER_DEFINED) ellipsoid = ELLIPSOIDS[code];
  const a = keys.get(K.semiMajor);
  if (ellipsoid === undefined && a !== undefined && a > 0) {
    const rf = keys.get(K.invFlattening);
    const b = keys.get(K.semiMinor);
    const inv = rf !== undefined ? rf : b !== undefined && b > 0 && b < a ? a / (a - b) : 0;
    ellipsoid = ["unknown", a, inv];
  }
  if (ellipsoid === undefined) return { why: "its ellipsoid is not given" };
  const [ename, ea, erf] = ellipsoid;
  return {
    wkt: `GEOGCS["unknown",DATUM["unknown based on ${ename} ellipsoid",` +
      `SPHEROID["${ename}",${num(ea)},${num(erf)}]],${tail}`,
    rf: erf,
  };
}

/**
 * The PROJECTION and PARAMETERs of a user-defined projection, or why there are none.
 * `rf`: the ellipsoid's inverse flattening (0: a sphere).
 */
function projection(keys: Map<number, number>, rf: number): { wkt: string } | { why: string } {
  const get = (...ids: number[]) => {
    for (const id of ids) {
      const v = keys.get(id);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const fe = get(K.falseEasting, K.centerEasting, K.falseOriginEasting) ?? 0;
  const fn = get(K.falseNorthing, K.centerNorthing, K.falseOriginNorthing) ?? 0;
  const lat0 = get(K.natOriginLat, K.falseOriginLat, K.centerLat) ?? 0;
  const lon0 = get(K.natOriginLong, K.falseOriginLong, K.centerLong) ?? 0;
  const k = get(K.scaleAtNatOrigin, K.scaleAtCenter) ?? 1;
  const falses = [param("false_easting", fe), param("false_northing", fn)];
  const make = (name: string, ...params: string[]) => ({
    wkt: `PROJECTION["${name}"],${[...params, ...falses].join(",")}`,
  });
  // the methods defined by a natural origin and a scale there
  const atOrigin = (name: string) =>
    make(
      name,
      param("latitude_of_origin", lat0),
      param("central_meridian", lon0),
      param("scale_factor", k),
    );
  const method = keys.get(K.coordTrans);
  const conversion = keys.get(K.projection);
  if (method === undefined && conversion !== undefined) {
    // an EPSG conversion code: the UTM zones (16001-16060 north, 16101-16160 south)
    const zone = conversion % 100, family = Math.floor(conversion / 100);
    if ((family === 160 || family === 161) && zone >= 1 && zone <= 60) {
      return {
        wkt: `PROJECTION["Transverse_Mercator"],${
          [
            param("latitude_of_origin", 0),
            param("central_meridian", 6 * zone - 183),
            param("scale_factor", 0.9996),
            param("false_easting", 500000),
            param("false_northing", family === 161 ? 10000000 : 0),
          ].join(",")
        }`,
      };
    }
    return { why: `its projection EPSG:${conversion} is not one sopseg can describe` };
  }
  if (method === undefined) return { why: "its projection method is not given" };
  const sp1 = keys.get(K.stdParallel1), sp2 = keys.get(K.stdParallel2);
  switch (method) {
    case 1:
      return atOrigin("Transverse_Mercator");
    case 7: {
      // Mercator (2SP), true scale at +-sp1, is Mercator (1SP) with the scale of that
      // parallel at the equator (proj4js reads no Mercator_2SP)
      let scale = k;
      if (sp1 !== undefined) {
        const f = rf > 0 ? 1 / rf : 0, e2 = f * (2 - f), phi = (sp1 * Math.PI) / 180;
        scale = Math.cos(phi) / Math.sqrt(1 - e2 * Math.sin(phi) ** 2);
      }
      return make(
        "Mercator_1SP",
        param("latitude_of_origin", 0),
        param("central_meridian", lon0),
        param("scale_factor", scale),
      );
    }
    case 8:
      if (sp1 === undefined || sp2 === undefined) break;
      return {
        wkt: `PROJECTION["Lambert_Conformal_Conic_2SP"],${
          [
            param("standard_parallel_1", sp1),
            param("standard_parallel_2", sp2),
            param("latitude_of_origin", get(K.falseOriginLat, K.natOriginLat, K.centerLat) ?? 0),
            param("central_meridian", get(K.falseOriginLong, K.natOriginLong, K.centerLong) ?? 0),
            param("false_easting", get(K.falseOriginEasting, K.falseEasting) ?? 0),
            param("false_northing", get(K.falseOriginNorthing, K.falseNorthing) ?? 0),
          ].join(",")
        }`,
      };
    case 9:
      return atOrigin("Lambert_Conformal_Conic_1SP");
    case 10:
      return make(
        "Lambert_Azimuthal_Equal_Area",
        param("latitude_of_center", get(K.centerLat, K.natOriginLat, K.falseOriginLat) ?? 0),
        param("longitude_of_center", get(K.centerLong, K.natOriginLong, K.falseOriginLong) ?? 0),
      );
    case 11:
      if (sp1 === undefined || sp2 === undefined) break;
      return make(
        "Albers_Conic_Equal_Area",
        param("standard_parallel_1", sp1),
        param("standard_parallel_2", sp2),
        param("latitude_of_center", lat0),
        param("longitude_of_center", lon0),
      );
    case 15: {
      // GDAL writes variant A (at the pole, with a scale) and variant B (a latitude of
      // true scale) with the same keys: the latitude is the pole's for A
      const lat = keys.get(K.natOriginLat) ?? 90;
      return make(
        "Polar_Stereographic",
        param("latitude_of_origin", lat),
        param("central_meridian", get(K.straightVertPoleLong, K.natOriginLong) ?? 0),
        param("scale_factor", k),
      );
    }
    case 16:
      return atOrigin("Oblique_Stereographic");
    case 24:
      return make(
        "Sinusoidal",
        param("longitude_of_center", get(K.centerLong, K.natOriginLong, K.falseOriginLong) ?? 0),
      );
  }
  return { why: `its projection method (GeoTIFF code ${method}) is not one sopseg can describe` };
}

/**
 * The CRS of a GeoTIFF's GeoKeys. A projected raster's geographic code is never
 * taken for its CRS (a user-defined projection on WGS 84 carries
 * GeographicTypeGeoKey 4326: its coordinates are metres, not degrees).
 *
 * @example A user-defined Transverse Mercator on WGS 84
 * ```ts
 * import { geoKeysCrs } from "./geokeys_crs.ts";
 * const dir = [1, 1, 0, 7, 1024, 0, 1, 1, 2048, 0, 1, 4326, 3072, 0, 1, 32767,
 *   3075, 0, 1, 1, 3080, 34736, 1, 0, 3082, 34736, 1, 1, 3092, 34736, 1, 2];
 * const crs = geoKeysCrs(dir, [17, 500000, 0.9996]);
 * console.log(crs.epsg, crs.wkt?.startsWith('PROJCS["unknown (GeoKeys)"')); // null true
 * ```
 *
 * @param directory The GeoKeyDirectoryTag values.
 * @param doubles The GeoDoubleParamsTag values, if any.
 * @returns The EPSG code or WKT, or a note on why there is neither.
 */
export function geoKeysCrs(directory: ArrayLike<number>, doubles?: ArrayLike<number>): GeoKeysCrs {
  const keys = geoKeyValues(directory, doubles);
  const model = keys.get(K.modelType);
  const pcs = keys.get(K.projectedType);
  const valid = (v: number | undefined): v is number =>
    v !== undefined && v > 0 && v !== USER_DEFINED;
  const fail = (why: string): GeoKeysCrs => ({
    epsg: null,
    wkt: null,
    note: `its GeoKeys describe a user-defined CRS that sopseg cannot name (${why}): output in ` +
      "its map coordinates with no CRS named (an <SRS> in a GDAL .aux.xml beside it names it)",
  });
  if (model === 1 || pcs !== undefined) {
    if (valid(pcs)) return { epsg: pcs, wkt: null };
    if (
      pcs === undefined && keys.get(K.coordTrans) === undefined &&
      keys.get(K.projection) === undefined
    ) {
      return { epsg: null, wkt: null };
    }
    const g = geogcs(keys);
    if ("why" in g) return fail(g.why);
    const p = projection(keys, g.rf);
    if ("why" in p) return fail(p.why);
    const code = keys.get(K.linearUnits);
    let unit = code === undefined ? LINEAR_UNITS[9001] : LINEAR_UNITS[code];
    const size = keys.get(K.linearUnitSize);
    if (unit === undefined && size !== undefined && size > 0) unit = ["unknown", size];
    if (unit === undefined) return fail(`its linear unit EPSG:${code} is not known`);
    return {
      epsg: null,
      wkt: `PROJCS["unknown (GeoKeys)",${g.wkt},${p.wkt},UNIT["${unit[0]}",${num(unit[1])}]]`,
    };
  }
  if (model === 3) return fail("geocentric");
  const gcs = keys.get(K.geographicType);
  if (valid(gcs)) return { epsg: gcs, wkt: null };
  if (
    gcs === undefined && keys.get(K.ellipsoid) === undefined && keys.get(K.semiMajor) === undefined
  ) {
    return { epsg: null, wkt: null };
  }
  const g = geogcs(keys);
  return "why" in g ? fail(g.why) : { epsg: null, wkt: g.wkt };
}
