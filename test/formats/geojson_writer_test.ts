import assert from "node:assert/strict";
import type { Point } from "../../src/geometry/oriented_box.ts";
import type { Georef } from "../../src/raster/source.ts";
import type { InstanceResult } from "../../src/formats/instance_result.ts";
import { parseGeoJsonDetections } from "../../src/formats/geojson_detections.ts";
import {
  featureCollectionToText,
  featureToNdjsonLine,
  type InstanceFeature,
  instancesToFeatureCollection,
  instanceToFeature,
  type Position,
} from "../../src/formats/geojson_writer.ts";

const GEOREF: Georef = {
  geoTransform: [500000, 0.5, 0, 4000000, 0, -0.5],
  epsg: 32633,
  wkt: null,
};

function rect(x0: number, y0: number, x1: number, y1: number, clockwiseOnScreen: boolean): Point[] {
  const ring = [{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }];
  return clockwiseOnScreen ? ring : ring.reverse();
}

function result(overrides: Partial<InstanceResult> = {}): InstanceResult {
  return {
    detectionIndex: 7,
    detection: {
      box: { cx: 6, cy: 5, width: 10, height: 6, angle: Math.PI / 6 },
      className: "ship",
      score: 0.875,
      difficult: false,
      source: "labels/P1.txt",
      line: 9,
    },
    // Part 1: a 10x8 square with a 2x2 hole; part 2: a separate 2x2 square.
    polygons: [
      [rect(1, 1, 11, 9, false), rect(4, 4, 6, 6, false)],
      [rect(20, 20, 22, 22, true)],
    ],
    rle: { size: [30, 30], counts: "0" },
    area: 80 - 4 + 4,
    bbox: [1, 1, 21, 21],
    predictedIou: 0.912345678,
    ...overrides,
  };
}

function signedArea(ring: Position[]): number {
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    s += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1];
  }
  return s / 2;
}

/** Checks RFC 7946 polygon rules on a geometry: closed rings, >= 4 positions, right-hand rule. */
function assertValidGeometry(geometry: InstanceFeature["geometry"]) {
  assert.ok(geometry !== null);
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  if (geometry.type === "MultiPolygon") assert.ok(polygons.length > 1);
  for (const polygon of polygons) {
    polygon.forEach((ring, i) => {
      assert.ok(ring.length >= 4, "a ring has >= 4 positions");
      assert.deepEqual(ring[0], ring[ring.length - 1], "rings are closed");
      for (const p of ring) assert.ok(p.length === 2 && p.every(Number.isFinite));
      const area = signedArea(ring);
      if (i === 0) assert.ok(area > 0, "outer ring counter-clockwise (numeric, y up)");
      else assert.ok(area < 0, "holes clockwise (numeric, y up)");
    });
  }
}

Deno.test("instanceToFeature() writes pixel MultiPolygons with holes, RFC 7946 orientation", () => {
  const feature = instanceToFeature(result(), { sourceImage: "images/P1.png" });
  assert.equal(feature.type, "Feature");
  assert.equal(feature.geometry?.type, "MultiPolygon");
  assertValidGeometry(feature.geometry);
  const parts = feature.geometry!.coordinates as Position[][][];
  assert.equal(parts.length, 2);
  assert.equal(parts[0]!.length, 2, "the hole is kept");
  assert.deepEqual(parts[0]![0]![0], [1, 9], "the first vertex is kept");
  assert.equal(signedArea(parts[0]![0]!), 80);
  assert.equal(signedArea(parts[0]![1]!), -4);
  const p = feature.properties;
  assert.equal(p.class, "ship");
  assert.equal(p.score, 0.875);
  assert.equal(p.predicted_iou, 0.9123);
  assert.equal(p.source_image, "images/P1.png");
  assert.equal(p.detection_index, 7);
  assert.deepEqual([p.source_file, p.source_line, p.source_record], ["labels/P1.txt", 9, null]);
  assert.equal(p.area_px, 80);
  assert.equal(p.obb.length, 8);
  assert.deepEqual(p.obb_pixel, [6, 5, 10, 6, 30]);
  // obb corners are the prompt box's: centre (6, 5), sides 10 and 6.
  const xs = p.obb.filter((_, i) => i % 2 === 0), ys = p.obb.filter((_, i) => i % 2 === 1);
  assert.ok(Math.abs(xs.reduce((a, b) => a + b) / 4 - 6) < 1e-3);
  assert.ok(Math.abs(ys.reduce((a, b) => a + b) / 4 - 5) < 1e-3);
  for (const v of p.obb) assert.equal(Math.round(v * 1000) / 1000, v, "3 decimals");
});

Deno.test("instanceToFeature() writes a Polygon for one part and null for an empty mask", () => {
  const one = instanceToFeature(result({ polygons: [[rect(0.12345, 0, 3, 2, true)]] }), {
    sourceImage: "P1.png",
  });
  assert.equal(one.geometry?.type, "Polygon");
  assertValidGeometry(one.geometry);
  assert.equal((one.geometry!.coordinates as Position[][])[0]![0]![0], 0.123, "3 decimals");
  // Closed input rings and repeated vertices are cleaned; degenerate rings dropped.
  const ring = rect(0, 0, 3, 2, false);
  const messy = instanceToFeature(
    result({
      polygons: [
        [[...ring, ring[0]!, ring[0]!]],
        [[{ x: 5, y: 5 }, { x: 6, y: 6 }, { x: 7, y: 7 }]],
      ],
    }),
    { sourceImage: "P1.png" },
  );
  assert.equal(messy.geometry?.type, "Polygon");
  assert.equal((messy.geometry!.coordinates as Position[][])[0]!.length, 5);
  assertValidGeometry(messy.geometry);
  const empty = instanceToFeature(result({ polygons: [], area: 0 }), { sourceImage: "P1.png" });
  assert.equal(empty.geometry, null);
});

Deno.test("instancesToFeatureCollection() writes map coordinates with the raster's CRS", () => {
  const fc = instancesToFeatureCollection([result()], { sourceImage: "scene.tif", georef: GEOREF });
  assert.equal(fc.type, "FeatureCollection");
  assert.equal(fc.name, "scene");
  assert.equal(fc["sopseg:coordinates"], "map");
  assert.deepEqual(fc.crs, { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::32633" } });
  const feature = fc.features[0]!;
  // North-up transform flips y: orientation must still be right in map numbers.
  assertValidGeometry(feature.geometry);
  const outer = (feature.geometry!.coordinates as Position[][][])[0]![0]!;
  assert.deepEqual(outer[0], [500000.5, 3999995.5]);
  assert.equal(signedArea(outer), 80 * 0.25);
  // obb in map coordinates, obb_pixel in pixels.
  const cx = feature.properties.obb.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b) / 4;
  assert.ok(Math.abs(cx - (500000 + 6 * 0.5)) < 1e-3);
  assert.deepEqual(feature.properties.obb_pixel, [6, 5, 10, 6, 30]);
  // Pixel output when asked, even with a georef.
  const pixel = instancesToFeatureCollection([result()], {
    sourceImage: "scene.tif",
    georef: GEOREF,
    coordinates: "pixel",
  });
  assert.equal(pixel["sopseg:coordinates"], "pixel");
  assert.equal(pixel.crs, undefined);
  assertValidGeometry(pixel.features[0]!.geometry);
});

Deno.test("instancesToFeatureCollection() cuts a WGS84 mask across the antimeridian in two (RFC 7946 3.1.9)", () => {
  /** The polygons of a one-part mask (a 10x4 px rectangle with a 2x2 hole) written in WGS84. */
  const written = (georef: Georef) => {
    const polygons = [[rect(0, 0, 10, 4, false), rect(3, 1, 5, 3, false)]];
    const fc = instancesToFeatureCollection([result({ polygons })], {
      sourceImage: "scene.tif",
      georef,
      coordinates: "wgs84",
    });
    const geometry = fc.features[0]!.geometry;
    assertValidGeometry(geometry);
    return geometry!.type === "Polygon"
      ? [geometry!.coordinates as Position[][]]
      : geometry!.coordinates as Position[][][];
  };
  const area = (polygon: Position[][]) => polygon.reduce((a, ring) => a + signedArea(ring), 0);
  const px = 1e-5; // degrees per pixel
  // pixels 0..10 span longitudes 179.99997..180.00007: 3 px west of the antimeridian, 7 east
  const across = written({ geoTransform: [179.99997, px, 0, 10, 0, -px], epsg: 4326, wkt: null });
  assert.equal(across.length, 2);
  const [west, east] = across as [Position[][], Position[][]];
  for (const [x] of west.flat()) assert.ok(x >= 179.99997 && x <= 180, `${x}`);
  for (const [x] of east.flat()) assert.ok(x >= -180 && x <= -179.99993, `${x}`);
  assert.ok(west[0]!.some(([x]) => x === 180) && east[0]!.some(([x]) => x === -180));
  // the hole (pixels 3..5) starts on the cut: east of it, it is a notch of the shell (a hole
  // sharing an edge with its shell would not be valid); nothing of the mask is lost
  assert.equal(west.length, 1);
  assert.equal(east.length, 1);
  assert.equal(east[0]!.length, 4 + 4 + 1, "the east part: its 4 corners and the hole's 4, closed");
  // (to 1e-4: the shoelace sum over longitudes near 180 cancels digits)
  assert.ok(Math.abs(area(west) / (3 * 4 * px * px) - 1) < 1e-4, `${area(west)}`);
  assert.ok(Math.abs(area(east) / ((7 * 4 - 4) * px * px) - 1) < 1e-4, `${area(east)}`);
  // a raster in longitudes 0..360: past 180 is written west of Greenwich, in one piece
  const past = written({ geoTransform: [200, px, 0, 10, 0, -px], epsg: 4326, wkt: null });
  assert.equal(past.length, 1);
  for (const [x] of past.flat().flat() as unknown as number[][]) assert.ok(x! < -159.9998);
  // a mask away from it is left as it was
  const away = written({ geoTransform: [179.9, px, 0, 10, 0, -px], epsg: 4326, wkt: null });
  assert.equal(away.length, 1);
  assert.equal(away[0]![0]![0]![0], 179.9);
});

Deno.test("instancesToFeatureCollection() picks map decimals from the pixel size", () => {
  const degrees: Georef = { geoTransform: [10, 1e-5, 0, 50, 0, -1e-5], epsg: 4326, wkt: null };
  const poly = [[rect(1 / 3, 1 / 3, 2, 2, true)]];
  const fc = instancesToFeatureCollection([result({ polygons: poly })], {
    sourceImage: "a.tif",
    georef: degrees,
  });
  const x = (fc.features[0]!.geometry!.coordinates as Position[][])[0]![0]![0];
  assert.equal(x, 10.00000333, "8 decimals for 1e-5 degree pixels");
  const metres = instancesToFeatureCollection([result({ polygons: poly })], {
    sourceImage: "a.tif",
    georef: GEOREF,
  });
  const mx = (metres.features[0]!.geometry!.coordinates as Position[][])[0]![0]![0];
  assert.equal(mx, 500000.1667, "4 decimals for 0.5 m pixels");
});

Deno.test("instancesToFeatureCollection() handles rasters without EPSG or georeference", () => {
  const wktOnly: Georef = { ...GEOREF, epsg: null, wkt: 'PROJCS["local"]' };
  const fc = instancesToFeatureCollection([], { sourceImage: "a.tif", georef: wktOnly });
  assert.equal(fc.crs, undefined);
  assert.equal(fc["sopseg:crs_wkt"], 'PROJCS["local"]');
  assert.equal(fc["sopseg:coordinates"], "map");
  assert.throws(
    () => instancesToFeatureCollection([], { sourceImage: "a.png", coordinates: "map" }),
    (e: unknown) =>
      e instanceof TypeError && /^Cannot write map coordinates for "a.png": /.test(e.message),
  );
  assert.equal(
    instancesToFeatureCollection([], { sourceImage: "a.png" })["sopseg:coordinates"],
    "pixel",
  );
});

Deno.test("featureCollectionToText() and featureToNdjsonLine() serialise valid JSON", () => {
  const fc = instancesToFeatureCollection([result(), result({ detectionIndex: 8 })], {
    sourceImage: "scene.tif",
    georef: GEOREF,
  });
  const text = featureCollectionToText(fc);
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(fc)));
  assert.equal(text.split("\n").length, 5, "head, 2 features, tail, final newline");
  const line = featureToNdjsonLine(fc.features[0]!);
  assert.ok(line.endsWith("\n"));
  assert.equal(line.indexOf("\n"), line.length - 1, "exactly one line");
  assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(fc.features[0])));
});

Deno.test("instancesToFeatureCollection() output reads back as detections (obb)", () => {
  // The written obb ring, as a detection file, gives back the prompt box.
  const fc = instancesToFeatureCollection([result()], { sourceImage: "scene.tif", georef: GEOREF });
  const obb = fc.features[0]!.properties.obb;
  const ring = [0, 2, 4, 6, 0].map((i) => [obb[i]!, obb[i + 1]!]);
  const detections = JSON.stringify({
    ...fc,
    features: [{
      type: "Feature",
      properties: { class: "ship" },
      geometry: { type: "Polygon", coordinates: [ring] },
    }],
  });
  const back = parseGeoJsonDetections(detections, { source: "x", georef: GEOREF }).detections[0]!;
  const box = result().detection.box;
  for (const key of ["cx", "cy", "width", "height"] as const) {
    assert.ok(Math.abs(back.box[key] - box[key]) < 1e-3, key);
  }
  assert.ok(Math.abs(back.box.angle - box.angle) < 1e-3);
});

Deno.test("instanceToFeature() writes box_moved only for a box the box search ran on", () => {
  const written = [true, false, undefined].map((boxMoved) => {
    const { properties } = instanceToFeature(result({ boxMoved }), { sourceImage: "P1.png" });
    return { has: "box_moved" in properties, value: properties.box_moved };
  });
  assert.deepEqual(written, [
    { has: true, value: true },
    { has: true, value: false },
    { has: false, value: undefined },
  ]);
  // last, after in_training_classes: a feature without it keeps its text as it was
  const text = JSON.stringify(
    instanceToFeature(result({ inTrainingClasses: true, boxMoved: false }), {
      sourceImage: "P1.png",
    }),
  );
  assert.match(text, /"area_px":80,"in_training_classes":true,"box_moved":false\}\}$/);
  assert.equal(
    JSON.stringify(
      instanceToFeature(result({ inTrainingClasses: true }), { sourceImage: "P1.png" }),
    ),
    text.replace(',"box_moved":false', ""),
  );
});
