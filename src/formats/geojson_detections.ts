/**
 * Reader for oriented detections stored as GeoJSON polygons.
 *
 * @module
 */

import type { Point } from "../geometry/oriented_box.ts";
import type { Georef } from "../raster/source.ts";
import type { Detection, ParsedDetections, ParseIssue } from "./detection.ts";
import { applyGeoTransform, invertGeoTransform } from "./geo_transform.ts";
import { reprojection } from "./reproject.ts";
import { boxFromCorners, errorMessage, FieldError, shown } from "./_parse.ts";

/** Options for {@linkcode parseGeoJsonDetections}. */
export interface ParseGeoJsonDetectionsOptions {
  /** Where the text comes from (a file path); copied into detections and issues. */
  source: string;
  /** The raster's georeference, needed for map coordinates. Default: `null`. */
  georef?: Georef | null;
  /**
   * The frame of the file's coordinates. `"pixel"`: the pixel frame
   * (docs/CONTRACT.md). `"map"`: the raster's CRS, converted through the
   * inverse geotransform (needs `georef`). `"auto"`: the file's own
   * `"sopseg:coordinates"` member when present; WGS84 when the file names
   * EPSG:4326/CRS84 and the raster's CRS is another; otherwise map when the
   * file has a `crs` member (either an error without `georef`); a file without
   * a `crs` member (RFC 7946) is WGS84 when its first position is a
   * longitude/latitude inside the image, map when that position is over the
   * image through the geotransform and far from it as pixels (both need
   * `imageSize`), else pixel. `"wgs84"`: longitude/latitude
   * reprojected to the raster's CRS (src/formats/reproject.ts), then through the
   * inverse geotransform. Default: `"auto"`.
   *
   * A file without a `crs` member read as map coordinates is taken to be in
   * the raster's CRS. A `crs` naming another EPSG code than the raster's is an
   * error; when the raster's EPSG code is unknown (`georef.epsg === null`) the
   * file's CRS cannot be checked and is trusted.
   */
  coordinates?: "pixel" | "map" | "wgs84" | "auto";
  /** The image size in pixels, for telling an RFC 7946 file from pixel coordinates. */
  imageSize?: { width: number; height: number };
  /** Class name for features without a `class`, `class_name` or `label` property. Default: `"object"`. */
  defaultClassName?: string;
}

const CLASS_KEYS = ["class", "class_name", "label", "category"] as const;
const SCORE_KEYS = ["score", "confidence", "conf"] as const;

/**
 * The EPSG code named by a GeoJSON (2008) `crs` member, `null` when there is
 * no `crs` member. OGC CRS84 counts as EPSG:4326 (WGS84, longitude first).
 * Throws a SyntaxError for a `crs` member whose name cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { geoJsonCrsEpsg } from "./geojson_detections.ts";
 *
 * const crs = { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::32633" } };
 * assert.equal(geoJsonCrsEpsg({ type: "FeatureCollection", crs, features: [] }), 32633);
 * assert.equal(geoJsonCrsEpsg({ type: "FeatureCollection", features: [] }), null);
 * ```
 *
 * @param geojson A parsed GeoJSON object.
 * @returns The EPSG code, or `null` when the object names no CRS.
 */
export function geoJsonCrsEpsg(geojson: unknown): number | null {
  if (!isObject(geojson) || geojson.crs === undefined || geojson.crs === null) return null;
  const crs = geojson.crs;
  const name = isObject(crs) && isObject(crs.properties) ? crs.properties.name : undefined;
  if (typeof name !== "string") {
    throw new SyntaxError(
      `Cannot read GeoJSON crs: expected {"type": "name", "properties": {"name": ...}}, got ${
        shown(crs)
      }`,
    );
  }
  if (/(^|:)CRS84$/i.test(name)) return 4326;
  const match = /EPSG(?::[\d.]*)?:(\d+)$/i.exec(name) ?? /\/EPSG\/[\d.]+\/(\d+)$/i.exec(name);
  const code = Number(match?.[1]);
  if (!Number.isSafeInteger(code)) {
    throw new SyntaxError(`Cannot read GeoJSON crs: no EPSG code in ${shown(name)}`);
  }
  return code;
}

/**
 * Reads oriented detections from a GeoJSON FeatureCollection (or a single
 * Feature) whose features are Polygons with the box's 4 corners (4 or 5
 * positions, the 5th closing the ring), in any winding, or MultiPolygons of
 * one such polygon (shapefile and GeoPackage exports). Properties: the class
 * from `class`, `class_name`, `label` or `category`; the score from `score`,
 * `confidence` or `conf`; `difficult` (true or 1) optional.
 *
 * Coordinates are pixel-frame, or map coordinates in the raster's CRS
 * (see {@linkcode ParseGeoJsonDetectionsOptions.coordinates}). A feature that
 * cannot be read (not a 4-corner polygon, a MultiPolygon of several, a bad
 * property, a degenerate box)
 * becomes a {@linkcode ParseIssue} with its 0-based `feature` index (`line`
 * is 0) and is skipped.
 *
 * Throws for problems with the whole file: a SyntaxError for text that is not
 * JSON or not a FeatureCollection or Feature, or an unreadable `crs`; a
 * TypeError for map coordinates without a georeference or a CRS that does not
 * match the raster's.
 *
 * @example Map coordinates through a geotransform
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGeoJsonDetections } from "./geojson_detections.ts";
 *
 * const text = JSON.stringify({
 *   type: "FeatureCollection",
 *   crs: { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::32633" } },
 *   features: [{
 *     type: "Feature",
 *     properties: { class: "ship", score: 0.9 },
 *     geometry: {
 *       type: "Polygon",
 *       coordinates: [[[500005, 3999995], [500015, 3999995], [500015, 3999990],
 *         [500005, 3999990], [500005, 3999995]]],
 *     },
 *   }],
 * });
 * const georef = {
 *   geoTransform: [500000, 0.5, 0, 4000000, 0, -0.5] as [number, number, number, number, number, number],
 *   epsg: 32633,
 *   wkt: null,
 * };
 * const { detections } = parseGeoJsonDetections(text, { source: "d.geojson", georef });
 * assert.equal(detections[0]!.className, "ship");
 * assert.ok(Math.abs(detections[0]!.box.cx - 20) < 1e-9);
 * assert.ok(Math.abs(detections[0]!.box.cy - 15) < 1e-9);
 * ```
 *
 * @param text The file's text.
 * @param options Source, georeference and coordinate frame.
 * @returns The detections and the issues.
 */
export function parseGeoJsonDetections(
  text: string,
  options: ParseGeoJsonDetectionsOptions,
): ParsedDetections {
  const { source, georef = null, coordinates = "auto", defaultClassName = "object" } = options;
  const fail = (why: string) => `Cannot read GeoJSON detections from "${source}": ${why}`;
  let root: unknown;
  try {
    root = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new SyntaxError(fail(`not JSON (${errorMessage(error)})`));
  }
  let features: unknown[];
  if (isObject(root) && root.type === "FeatureCollection" && Array.isArray(root.features)) {
    features = root.features;
  } else if (isObject(root) && root.type === "Feature") {
    features = [root];
  } else {
    throw new SyntaxError(fail("expected a GeoJSON FeatureCollection or Feature"));
  }

  let fileEpsg: number | null;
  try {
    fileEpsg = geoJsonCrsEpsg(root);
  } catch (error) {
    throw new SyntaxError(fail(errorMessage(error)));
  }
  let frame: "pixel" | "map" | "wgs84";
  if (coordinates === "auto") {
    const marker = isObject(root) ? root["sopseg:coordinates"] : undefined;
    if (marker === "map" || marker === "pixel" || marker === "wgs84") frame = marker;
    // a file that names its CRS is in it: without a georeferenced raster, an error below
    else if (fileEpsg === 4326 && georef?.epsg !== 4326) frame = "wgs84";
    else if (fileEpsg !== null) frame = "map";
    else if (
      georef !== null && options.imageSize && looksLikeWgs84(features, georef, options.imageSize)
    ) {
      frame = "wgs84";
    } else if (
      georef !== null && options.imageSize && looksLikeMap(features, georef, options.imageSize)
    ) {
      frame = "map";
    } else if (lonLatNotPixels(features)) {
      // RFC 7946 positions (no `crs` member) that are not over the image: read as pixels they
      // would be boxes a thousandth of a pixel across near the image's corner
      throw new TypeError(
        fail(
          georef === null
            ? "the coordinates are WGS84 longitude/latitude (a file without a crs member, boxes " +
              "far under a pixel as pixels) but the raster has no georeference"
            : "the coordinates are WGS84 longitude/latitude (a file without a crs member, boxes " +
              "far under a pixel as pixels) but they do not fall on the image: another image's " +
              "detections?",
        ),
      );
    } else frame = "pixel";
  } else {
    frame = coordinates;
  }
  let toPixel: (p: Point) => Point = (p) => p;
  if (frame === "wgs84") {
    if (georef === null) {
      throw new TypeError(
        fail("the coordinates are WGS84 longitude/latitude but the raster has no georeference"),
      );
    }
    let fromWgs84: (p: Point) => Point;
    try {
      fromWgs84 = reprojection(georef).fromWgs84;
    } catch (error) {
      throw new TypeError(fail(errorMessage(error)));
    }
    const inverse = invertGeoTransform(georef.geoTransform);
    toPixel = (p) => applyGeoTransform(inverse, fromWgs84(p));
  } else if (frame === "map") {
    if (georef === null) {
      const named = fileEpsg === null ? "" : ` (EPSG:${fileEpsg})`;
      throw new TypeError(
        fail(`the coordinates are map coordinates${named} but the raster has no georeference`),
      );
    }
    if (fileEpsg !== null && georef.epsg !== null && fileEpsg !== georef.epsg) {
      throw new TypeError(
        fail(
          `the file's CRS is EPSG:${fileEpsg} but the raster's is EPSG:${georef.epsg}; ` +
            `reproject the detections to the raster's CRS`,
        ),
      );
    }
    const inverse = invertGeoTransform(georef.geoTransform);
    toPixel = (p) => applyGeoTransform(inverse, p);
  }

  const detections: Detection[] = [];
  const issues: ParseIssue[] = [];
  features.forEach((feature, index) => {
    try {
      if (!isObject(feature) || feature.type !== "Feature") {
        throw new FieldError("not a GeoJSON Feature");
      }
      const corners = polygonCorners(feature.geometry).map(toPixel) as [
        Point,
        Point,
        Point,
        Point,
      ];
      const properties = isObject(feature.properties) ? feature.properties : {};
      const className = readClass(properties) ?? defaultClassName;
      const score = readScore(properties);
      const difficult = properties.difficult === true || properties.difficult === 1;
      const box = boxFromCorners(corners);
      detections.push({
        box,
        className,
        score,
        difficult,
        source,
        line: 0,
        feature: index,
        corners,
      });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      issues.push({
        source,
        line: 0,
        feature: index,
        message: `Cannot read feature ${index}: ${errorMessage(error)}`,
      });
    }
  });
  return { detections, issues };
}

type Size = { width: number; height: number };

/** The first position of the first feature, or `null` when it has none. */
function firstPosition(features: unknown[]): Point | null {
  try {
    const first = features[0];
    return polygonCorners(isObject(first) ? first.geometry : null)[0]!;
  } catch {
    return null;
  }
}

/** Whether a pixel position is on the image or within one image size of it. */
function nearImage(q: Point, size: Size): boolean {
  return q.x >= -size.width && q.x <= 2 * size.width && q.y >= -size.height &&
    q.y <= 2 * size.height;
}

/** `toPixel(p)` near the image; false when it throws (no such reprojection). */
function landsNear(p: Point, toPixel: (p: Point) => Point, size: Size): boolean {
  try {
    return nearImage(toPixel(p), size);
  } catch {
    return false;
  }
}

/**
 * Whether the first feature's corners are longitude/latitude and no pixels: all
 * within [-180, 180] x [-90, 90] and spanning under a hundredth of a unit, a box
 * no detector gives in pixels (an object under 1/100 px) and one of a few hundred
 * metres at most in degrees.
 */
function lonLatNotPixels(features: unknown[]): boolean {
  let corners: Point[];
  try {
    const first = features[0];
    corners = polygonCorners(isObject(first) ? first.geometry : null);
  } catch {
    return false;
  }
  const xs = corners.map((c) => c.x), ys = corners.map((c) => c.y);
  const inRange = corners.every((c) => Math.abs(c.x) <= 180 && Math.abs(c.y) <= 90);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  return inRange && span > 0 && span < 0.01;
}

/** Whether the first position, read as longitude/latitude, falls inside the image. */
function looksLikeWgs84(features: unknown[], georef: Georef, size: Size): boolean {
  const p = firstPosition(features);
  if (p === null || Math.abs(p.x) > 180 || Math.abs(p.y) > 90) return false;
  const inverse = () => invertGeoTransform(georef.geoTransform);
  return landsNear(p, (q) => applyGeoTransform(inverse(), reprojection(georef).fromWgs84(q)), size);
}

/**
 * Whether the first position is over the image as map coordinates (through
 * the geotransform) and far from it as pixels: a file in the raster's CRS
 * that does not name it.
 */
function looksLikeMap(features: unknown[], georef: Georef, size: Size): boolean {
  const p = firstPosition(features);
  if (p === null || nearImage(p, size)) return false;
  return landsNear(p, (q) => applyGeoTransform(invertGeoTransform(georef.geoTransform), q), size);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function polygonCorners(geometry: unknown): Point[] {
  if (!isObject(geometry)) throw new FieldError("no geometry");
  let rings = geometry.coordinates;
  if (geometry.type === "MultiPolygon") {
    // one polygon as a MultiPolygon: what shapefiles, GeoPackages and ogr2ogr -nlt MULTIPOLYGON give
    if (!Array.isArray(rings) || rings.length !== 1) {
      const parts = Array.isArray(rings) ? rings.length : 0;
      throw new FieldError(
        `geometry is a MultiPolygon of ${parts} polygons, expected one 4-corner polygon ` +
          `(one box per feature)`,
      );
    }
    rings = rings[0];
  } else if (geometry.type !== "Polygon") {
    throw new FieldError(
      `geometry is a ${
        typeof geometry.type === "string" ? shown(geometry.type).slice(1, -1) : shown(geometry.type)
      }, expected a 4-corner Polygon (or a MultiPolygon of one)`,
    );
  }
  if (!Array.isArray(rings) || rings.length !== 1) {
    const count = Array.isArray(rings) ? rings.length : 0;
    throw new FieldError(`expected a Polygon with exactly one ring, got ${count}`);
  }
  const ring: unknown = rings[0];
  if (!Array.isArray(ring)) throw new FieldError("the ring is not an array of positions");
  const points = ring.map((position: unknown, i: number) => {
    if (
      !Array.isArray(position) || position.length < 2 ||
      !Number.isFinite(position[0]) || !Number.isFinite(position[1])
    ) {
      throw new FieldError(`position ${i} is not a pair of finite numbers`);
    }
    return { x: position[0] as number, y: position[1] as number };
  });
  const first = points[0];
  const last = points[points.length - 1];
  if (points.length === 5 && first !== undefined && last !== undefined) {
    if (first.x !== last.x || first.y !== last.y) {
      throw new FieldError("a 5-position ring must end with its first position");
    }
    points.pop();
  }
  if (points.length !== 4) {
    throw new FieldError(
      `expected 4 corners (4 or 5 positions with the closing one), got ${ring.length} positions`,
    );
  }
  return points;
}

function readClass(properties: Record<string, unknown>): string | null {
  for (const key of CLASS_KEYS) {
    const value = properties[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    throw new FieldError(
      `property "${key}" must be a string or a number, got ${shown(value)}`,
    );
  }
  return null;
}

function readScore(properties: Record<string, unknown>): number | null {
  for (const key of SCORE_KEYS) {
    const value = properties[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "number" && Number.isFinite(value)) return value;
    throw new FieldError(`property "${key}" must be a number, got ${shown(value)}`);
  }
  return null;
}
