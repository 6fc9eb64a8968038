/**
 * Writes instance results as GeoJSON: one FeatureCollection per image, or one
 * Feature per line (newline-delimited, for streaming to stdout).
 *
 * Ring orientation follows RFC 7946 on the numbers written: outer rings have
 * a positive shoelace area (counter-clockwise when y points up), holes a
 * negative one, whatever the frame. In map coordinates of a north-up raster
 * this is counter-clockwise on the map. In pixel coordinates, where y points
 * down, the same outer rings look clockwise on screen; GIS tools and
 * validators check the numbers, so the numeric rule is the one kept.
 *
 * @module
 */

import { cutAtAntimeridian, pastAntimeridian } from "./antimeridian.ts";
import { openRing, roundTo, signedArea } from "./_positions.ts";
import { boxCorners, type Point } from "../geometry/oriented_box.ts";
import type { Polygon } from "../masks/polygon.ts";
import type { Georef } from "../raster/source.ts";
import { fileStem } from "./detection_files.ts";
import { applyGeoTransform, pixelSize } from "./geo_transform.ts";
import { reprojection } from "./reproject.ts";
import type { InstanceResult } from "./instance_result.ts";
import { detectionOrigin } from "./detection.ts";

/** A GeoJSON position `[x, y]`. */
export type Position = [number, number];

/** The geometry of one instance: a Polygon for one part, a MultiPolygon for several. */
export type InstanceGeometry =
  | { type: "Polygon"; coordinates: Position[][] }
  | { type: "MultiPolygon"; coordinates: Position[][][] };

/** The properties of one instance feature. */
export interface InstanceProperties {
  /** The detection's class name. */
  class: string;
  /** The detector's score, `null` when the detections had none. */
  score: number | null;
  /** The model's predicted IoU (4 decimals). */
  predicted_iou: number;
  /** The prompt box's corners `[x1, y1, ..., x4, y4]`, in the geometry's coordinates. */
  obb: number[];
  /** The prompt box in pixels: `[cx, cy, width, height, angle_deg]` (pixel frame, y down). */
  obb_pixel: [number, number, number, number, number];
  /** The image the instance belongs to. */
  source_image: string;
  /** Index of the detection in its image's detection list (the detections kept). */
  detection_index: number;
  /**
   * The detection file the box was read from (as the run named it); `null` when the detections
   * were given as a list (the server's `boxes`, the library).
   */
  source_file: string | null;
  /** The box's 1-based line in `source_file` (text formats); `null` otherwise. */
  source_line: number | null;
  /**
   * The box's 0-based index in `source_file`'s JSON array (GeoJSON `features`, mmrotate's
   * results); `null` otherwise.
   */
  source_record: number | null;
  /** Mask area in pixels. */
  area_px: number;
  /**
   * Whether the class is one the model was trained on; absent when unknown. `false`: the
   * mask is still made, but expect it to be rougher.
   */
  in_training_classes?: boolean;
  /**
   * With the box search (`--box-search`, the server's `options.box_search`): `true` when the
   * mask is a moved box's (its predicted IoU beat the given box's by the margin), `false` when
   * it is the given box's; absent for a box the search did not run on (no search, a crop on the
   * small graphs, a box outside the image). `obb` is the given box either way.
   */
  box_moved?: boolean;
}

/** One instance as a GeoJSON Feature; `geometry` is `null` for an empty mask. */
export interface InstanceFeature {
  /** Always `"Feature"`. */
  type: "Feature";
  /** The mask outline in the collection's frame; `null` for an empty mask. */
  geometry: InstanceGeometry | null;
  /** The instance's attributes. */
  properties: InstanceProperties;
}

/** A GeoJSON FeatureCollection of instances, saying which frame its coordinates are in. */
export interface InstanceFeatureCollection {
  /** Always `"FeatureCollection"`. */
  type: "FeatureCollection";
  /** The image stem (GDAL reads it as the layer name). */
  name: string;
  /**
   * `"map"`: the raster's CRS; `"wgs84"`: WGS84 longitude/latitude (RFC 7946,
   * no `crs` member); `"pixel"`: the pixel frame (docs/CONTRACT.md).
   */
  "sopseg:coordinates": OutputFrame;
  /** The CRS as GDAL writes it, for map coordinates with a known EPSG code. */
  crs?: { type: "name"; properties: { name: string } };
  /** The raster's WKT, for map coordinates without an EPSG code. */
  "sopseg:crs_wkt"?: string;
  /** One feature per instance, in the order given. */
  features: InstanceFeature[];
}

/** The frame of written coordinates. */
export type OutputFrame = "map" | "wgs84" | "pixel";

/** Options for {@linkcode instanceToFeature} and {@linkcode instancesToFeatureCollection}. */
export interface GeoJsonWriterOptions {
  /** The image the instances belong to (written as `source_image`). */
  sourceImage: string;
  /** The raster's georeference. Default: `null`. */
  georef?: Georef | null;
  /**
   * The output frame. `"map"`: the raster's CRS through its geotransform
   * (needs `georef`); `"wgs84"`: the raster's CRS reprojected to WGS84
   * longitude/latitude (RFC 7946; needs `georef` with a CRS that
   * `src/formats/reproject.ts` knows); `"pixel"`: the pixel frame; `"auto"`:
   * map when `georef` is given. Default: `"auto"`.
   */
  coordinates?: "auto" | OutputFrame;
  /**
   * Decimals kept in coordinates. Default: 3 for pixel coordinates; for map
   * and WGS84 coordinates, enough to resolve a thousandth of a pixel (e.g. 4
   * for 0.5 m pixels, 8 for 1e-5 degree pixels, 9 for 0.5 m pixels in WGS84).
   */
  decimals?: number;
}

interface Frame {
  kind: OutputFrame;
  transform: (p: Point) => Point;
  decimals: number;
}

function resolveFrame(options: GeoJsonWriterOptions): Frame {
  const { georef = null, coordinates = "auto" } = options;
  const kind = coordinates === "auto" ? (georef === null ? "pixel" : "map") : coordinates;
  if (kind === "pixel") {
    return { kind, transform: (p) => p, decimals: options.decimals ?? 3 };
  }
  const what = kind === "wgs84" ? "WGS84" : "map";
  if (georef === null) {
    throw new TypeError(
      `Cannot write ${what} coordinates for "${options.sourceImage}": the raster has no georeference`,
    );
  }
  const gt = georef.geoTransform;
  let size = pixelSize(gt);
  if (!Number.isFinite(size) || size <= 0) {
    throw new RangeError(
      `Cannot write ${what} coordinates for "${options.sourceImage}": bad geotransform [${
        gt.join(", ")
      }]`,
    );
  }
  let transform = (p: Point) => applyGeoTransform(gt, p);
  if (kind === "wgs84") {
    let toWgs84;
    try {
      toWgs84 = reprojection(georef).toWgs84;
    } catch (e) {
      throw new RangeError(
        `Cannot write WGS84 coordinates for "${options.sourceImage}": ${(e as Error).message}`,
      );
    }
    const toMap = transform;
    transform = (p) => toWgs84(toMap(p));
    // Metres per degree of latitude, a lower bound: enough decimals anywhere.
    if (georef.epsg !== 4326) size /= 111_320;
  }
  const auto = Math.min(12, Math.max(0, Math.ceil(-Math.log10(size / 1000) - 1e-9)));
  return { kind, transform, decimals: options.decimals ?? auto };
}

/** Transforms, rounds and de-duplicates a ring (left open); `null` under 3 positions. */
function projectRing(ring: readonly Point[], frame: Frame): Position[] | null {
  return openRing(ring.map((p) => {
    const q = frame.transform(p);
    return [roundTo(q.x, frame.decimals), roundTo(q.y, frame.decimals)];
  }));
}

/** Orients (positive area when `outer`) and closes an open ring; `null` when it has no area. */
function closeRing(ring: Position[], outer: boolean): Position[] | null {
  const area = signedArea(ring);
  if (area === 0) return null;
  if ((area > 0) !== outer) ring.splice(1, ring.length - 1, ...ring.slice(1).reverse());
  ring.push([...(ring[0] as Position)]);
  return ring;
}

function outputPolygons(polygons: readonly Polygon[], frame: Frame): Position[][][] {
  const out: Position[][][] = [];
  for (const polygon of polygons) {
    const [outer, ...holes] = polygon;
    if (outer === undefined) continue;
    const open = [outer, ...holes].map((ring) => projectRing(ring, frame));
    // A mask across the antimeridian (or past it: a raster in longitudes 0..360): its
    // longitudes made continuous (past 180) for the orientation, then the polygon cut at 180
    // and its east part brought into -180..180 (RFC 7946 3.1.9).
    const wrapped = frame.kind === "wgs84" && open.some((r) => r !== null && pastAntimeridian(r));
    if (wrapped) {
      for (const ring of open) ring?.forEach((p) => p[0] < 0 && (p[0] += 360));
    }
    const shell = open[0] ? closeRing(open[0], true) : null;
    if (shell === null) continue;
    const rings = [shell];
    for (const hole of open.slice(1)) {
      const h = hole ? closeRing(hole, false) : null;
      if (h !== null) rings.push(h);
    }
    if (wrapped) out.push(...cutAtAntimeridian(rings, frame.decimals));
    else out.push(rings);
  }
  return out;
}

function feature(
  result: InstanceResult,
  options: GeoJsonWriterOptions,
  frame: Frame,
): InstanceFeature {
  const parts = outputPolygons(result.polygons, frame);
  let geometry: InstanceGeometry | null = null;
  if (parts.length === 1) geometry = { type: "Polygon", coordinates: parts[0] as Position[][] };
  else if (parts.length > 1) geometry = { type: "MultiPolygon", coordinates: parts };
  const { box } = result.detection;
  const origin = detectionOrigin(result.detection);
  // (longitudes past 180, from a raster in longitudes 0..360, brought into -180..180 as the
  // geometry's are; a box across the line is not cut: its corners may lie on both sides)
  const obb = boxCorners(box).flatMap((p) => {
    const q = frame.transform(p);
    const x = frame.kind === "wgs84" && Math.abs(q.x) > 180 ? q.x - 360 * Math.sign(q.x) : q.x;
    return [roundTo(x, frame.decimals), roundTo(q.y, frame.decimals)];
  });
  const properties: InstanceProperties = {
    class: result.detection.className,
    score: result.detection.score,
    predicted_iou: roundTo(result.predictedIou, 4),
    obb,
    obb_pixel: [
      roundTo(box.cx, 3),
      roundTo(box.cy, 3),
      roundTo(box.width, 3),
      roundTo(box.height, 3),
      roundTo(box.angle * 180 / Math.PI, 4),
    ],
    source_image: options.sourceImage,
    detection_index: result.detectionIndex,
    source_file: origin.file,
    source_line: origin.line,
    source_record: origin.record,
    area_px: result.area,
  };
  if (result.inTrainingClasses !== undefined) {
    properties.in_training_classes = result.inTrainingClasses;
  }
  if (result.boxMoved !== undefined) properties.box_moved = result.boxMoved;
  return { type: "Feature", geometry, properties };
}

/**
 * One instance as a GeoJSON Feature: Polygon geometry for a mask of one part,
 * MultiPolygon for several, holes kept, rings closed and oriented as RFC 7946
 * asks (see the module doc); `null` geometry for an empty mask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instanceToFeature } from "./geojson_writer.ts";
 *
 * const feature = instanceToFeature({
 *   detectionIndex: 0,
 *   detection: {
 *     box: { cx: 2, cy: 2, width: 2, height: 2, angle: 0 },
 *     className: "ship", score: 0.9, difficult: false, source: "P1.txt", line: 1,
 *   },
 *   polygons: [[[{ x: 1, y: 1 }, { x: 1, y: 3 }, { x: 3, y: 3 }, { x: 3, y: 1 }]]],
 *   rle: { size: [4, 4], counts: "52203" },
 *   area: 4,
 *   bbox: [1, 1, 2, 2],
 *   predictedIou: 0.95,
 * }, { sourceImage: "P1.png" });
 * assert.equal(feature.geometry?.type, "Polygon");
 * assert.deepEqual(feature.geometry?.coordinates, [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]);
 * assert.equal(feature.properties.class, "ship");
 * ```
 *
 * @param result The instance.
 * @param options Source image, georeference and output frame.
 * @returns The Feature.
 */
export function instanceToFeature(
  result: InstanceResult,
  options: GeoJsonWriterOptions,
): InstanceFeature {
  return feature(result, options, resolveFrame(options));
}

/**
 * The instances of one image as a FeatureCollection. In map coordinates the
 * collection names its CRS as GDAL does (`"crs": {"type": "name",
 * "properties": {"name": "urn:ogc:def:crs:EPSG::<code>"}}`, or
 * `"sopseg:crs_wkt"` when the raster has no EPSG code); it always says its
 * frame in `"sopseg:coordinates"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instancesToFeatureCollection } from "./geojson_writer.ts";
 *
 * const georef = {
 *   geoTransform: [500000, 0.5, 0, 4000000, 0, -0.5] as [number, number, number, number, number, number],
 *   epsg: 32633,
 *   wkt: null,
 * };
 * const fc = instancesToFeatureCollection([], { sourceImage: "scene.tif", georef });
 * assert.equal(fc["sopseg:coordinates"], "map");
 * assert.equal(fc.crs?.properties.name, "urn:ogc:def:crs:EPSG::32633");
 * assert.equal(fc.name, "scene");
 * ```
 *
 * @param results The instances of one image.
 * @param options Source image, georeference and output frame.
 * @returns The FeatureCollection.
 */
export function instancesToFeatureCollection(
  results: Iterable<InstanceResult>,
  options: GeoJsonWriterOptions,
): InstanceFeatureCollection {
  const frame = resolveFrame(options);
  const collection: InstanceFeatureCollection = {
    type: "FeatureCollection",
    name: fileStem(options.sourceImage),
    "sopseg:coordinates": frame.kind,
    features: [],
  };
  const georef = options.georef ?? null;
  if (frame.kind === "map" && georef !== null) {
    if (georef.epsg !== null) {
      collection.crs = {
        type: "name",
        properties: { name: `urn:ogc:def:crs:EPSG::${georef.epsg}` },
      };
    } else if (georef.wkt !== null) {
      collection["sopseg:crs_wkt"] = georef.wkt;
    }
  }
  for (const result of results) collection.features.push(feature(result, options, frame));
  return collection;
}

/**
 * Serialises a FeatureCollection as JSON text with one feature per line
 * (valid JSON, easy to diff and to read), ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureCollectionToText, instancesToFeatureCollection } from "./geojson_writer.ts";
 *
 * const text = featureCollectionToText(instancesToFeatureCollection([], { sourceImage: "a.png" }));
 * assert.deepEqual(JSON.parse(text).features, []);
 * assert.ok(text.endsWith("\n"));
 * ```
 *
 * @param collection The collection.
 * @returns The JSON text.
 */
export function featureCollectionToText(collection: InstanceFeatureCollection): string {
  const { features, ...head } = collection;
  const headText = JSON.stringify(head).slice(0, -1);
  const body = features.map((f) => JSON.stringify(f)).join(",\n");
  return `${headText},"features":[${features.length ? `\n${body}\n` : ""}]}\n`;
}

/**
 * One Feature as a line of newline-delimited GeoJSON (GeoJSONSeq without the
 * record separator), newline included, for streaming (`--out -`). The line
 * does not say its frame: the caller states it (e.g. on stderr or in a header
 * of its own).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { featureToNdjsonLine } from "./geojson_writer.ts";
 *
 * const line = featureToNdjsonLine({ type: "Feature", geometry: null, properties: {} });
 * assert.equal(line, '{"type":"Feature","geometry":null,"properties":{}}\n');
 * ```
 *
 * @param feature The feature (any GeoJSON Feature object).
 * @returns One line of JSON with its newline.
 */
export function featureToNdjsonLine(feature: InstanceFeature | Record<string, unknown>): string {
  return `${JSON.stringify(feature)}\n`;
}
