import assert from "node:assert/strict";
import type { Georef } from "../../src/raster/source.ts";
import { applyGeoTransform } from "../../src/formats/geo_transform.ts";
import { geoJsonCrsEpsg, parseGeoJsonDetections } from "../../src/formats/geojson_detections.ts";

function near(actual: number, expected: number, tol = 1e-6) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} !~ ${expected}`);
}

const GEOREF: Georef = {
  // 0.3 m pixels, slightly rotated, north up-ish.
  geoTransform: [500000, 0.3, 0.01, 4000000, 0.02, -0.3],
  epsg: 32633,
  wkt: null,
};

// A rotated box in the pixel frame.
const PIXEL_CORNERS = [
  { x: 100, y: 50 },
  { x: 140, y: 80 },
  { x: 128, y: 96 },
  { x: 88, y: 66 },
];

function polygonFeature(ring: unknown[][], properties: Record<string, unknown> = {}) {
  return { type: "Feature", properties, geometry: { type: "Polygon", coordinates: [ring] } };
}

function closed(points: { x: number; y: number }[]): number[][] {
  const ring = points.map((p) => [p.x, p.y]);
  return [...ring, ring[0]!];
}

Deno.test("parseGeoJsonDetections() reads pixel polygons and properties", () => {
  const text = JSON.stringify({
    type: "FeatureCollection",
    features: [
      polygonFeature(closed(PIXEL_CORNERS), { class: "ship", score: 0.8 }),
      polygonFeature(PIXEL_CORNERS.map((p) => [p.x, p.y]), {
        class_name: "plane",
        confidence: 0.5,
      }),
      polygonFeature(closed(PIXEL_CORNERS), { label: 3, difficult: true }),
      polygonFeature(closed(PIXEL_CORNERS)),
      polygonFeature(closed(PIXEL_CORNERS), { category: "car", conf: 0.25 }), // a score was lost
    ],
  });
  const { detections, issues } = parseGeoJsonDetections(text, { source: "d.geojson" });
  assert.deepEqual(issues, []);
  assert.deepEqual(detections.map((d) => [d.className, d.score, d.difficult, d.feature, d.line]), [
    ["ship", 0.8, false, 0, 0],
    ["plane", 0.5, false, 1, 0],
    ["3", null, true, 2, 0],
    ["object", null, false, 3, 0],
    ["car", 0.25, false, 4, 0],
  ]);
  const box = detections[0]!.box;
  near(box.cx, 114);
  near(box.cy, 73);
  near(box.width * box.height, 50 * 20, 1e-6);
  assert.deepEqual(detections[0]!.corners, PIXEL_CORNERS);
});

Deno.test("parseGeoJsonDetections() round trips map coordinates through a geotransform", () => {
  const mapCorners = PIXEL_CORNERS.map((p) => applyGeoTransform(GEOREF.geoTransform, p));
  const crs = { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::32633" } };
  const text = JSON.stringify({
    type: "FeatureCollection",
    crs,
    features: [polygonFeature(closed(mapCorners), { class: "ship" })],
  });
  const pixel = parseGeoJsonDetections(
    JSON.stringify({
      type: "FeatureCollection",
      features: [polygonFeature(closed(PIXEL_CORNERS))],
    }),
    { source: "p.geojson" },
  ).detections[0]!;
  // auto: georef given and the file names a CRS -> map.
  const viaMap = parseGeoJsonDetections(text, { source: "m.geojson", georef: GEOREF });
  assert.deepEqual(viaMap.issues, []);
  const d = viaMap.detections[0]!;
  d.corners!.forEach((p, i) => {
    near(p.x, PIXEL_CORNERS[i]!.x, 1e-6);
    near(p.y, PIXEL_CORNERS[i]!.y, 1e-6);
  });
  for (const key of ["cx", "cy", "width", "height", "angle"] as const) {
    near(d.box[key], pixel.box[key], 1e-6);
  }
  // Explicit "map" without a crs member: taken to be the raster's CRS.
  const noCrs = JSON.stringify({
    type: "FeatureCollection",
    features: [polygonFeature(closed(mapCorners))],
  });
  const explicit = parseGeoJsonDetections(noCrs, {
    source: "m.geojson",
    georef: GEOREF,
    coordinates: "map",
  });
  near(explicit.detections[0]!.box.cx, pixel.box.cx);
  // auto without a crs member and without the image size: pixel, the box stays in map units
  const auto = parseGeoJsonDetections(noCrs, { source: "m.geojson", georef: GEOREF });
  assert.ok(auto.detections[0]!.box.cx > 400000);
  // with the image size: over the image as map coordinates, far from it as pixels -> map
  const imageSize = { width: 600, height: 400 };
  const sized = parseGeoJsonDetections(noCrs, { source: "m.geojson", georef: GEOREF, imageSize });
  near(sized.detections[0]!.box.cx, pixel.box.cx);
  near(sized.detections[0]!.box.cy, pixel.box.cy);
  // pixel positions stay pixels when the image size is known
  const pixelText = JSON.stringify({
    type: "FeatureCollection",
    features: [polygonFeature(closed(PIXEL_CORNERS))],
  });
  near(
    parseGeoJsonDetections(pixelText, { source: "p", georef: GEOREF, imageSize }).detections[0]!
      .box.cx,
    pixel.box.cx,
  );
  // a file that names its CRS, on a raster without a georeference: an error, not pixels
  for (const name of ["urn:ogc:def:crs:EPSG::32633", "urn:ogc:def:crs:OGC:1.3:CRS84"]) {
    const named = JSON.stringify({
      type: "FeatureCollection",
      crs: { type: "name", properties: { name } },
      features: [polygonFeature(closed(mapCorners))],
    });
    assert.throws(
      () => parseGeoJsonDetections(named, { source: "n.geojson", imageSize }),
      (e: unknown) =>
        e instanceof TypeError && /n\.geojson.*but the raster has no georeference/.test(e.message),
      name,
    );
  }
  // Our own marker wins in auto mode.
  const marked = JSON.stringify({
    type: "FeatureCollection",
    "sopseg:coordinates": "map",
    features: [polygonFeature(closed(mapCorners))],
  });
  near(
    parseGeoJsonDetections(marked, { source: "m", georef: GEOREF }).detections[0]!.box.cy,
    pixel.box.cy,
  );
  // "pixel" forced: the crs is ignored.
  const forced = parseGeoJsonDetections(text, {
    source: "m.geojson",
    georef: GEOREF,
    coordinates: "pixel",
  });
  assert.ok(forced.detections[0]!.box.cy > 3000000);
});

Deno.test("parseGeoJsonDetections() rejects a CRS that is not the raster's", () => {
  const text = JSON.stringify({
    type: "FeatureCollection",
    crs: { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::3857" } },
    features: [],
  });
  assert.throws(
    () => parseGeoJsonDetections(text, { source: "w.geojson", georef: GEOREF }),
    (e: unknown) =>
      e instanceof TypeError && /EPSG:3857/.test(e.message) && /EPSG:32633/.test(e.message) &&
      /^Cannot read GeoJSON detections from "w.geojson"/.test(e.message),
  );
  // Raster EPSG unknown: trusted.
  const unknown = { ...GEOREF, epsg: null };
  assert.deepEqual(parseGeoJsonDetections(text, { source: "w", georef: unknown }).detections, []);
  // Map coordinates without a georeference.
  assert.throws(
    () => parseGeoJsonDetections(text, { source: "w.geojson", coordinates: "map" }),
    (e: unknown) => e instanceof TypeError && /no georeference/.test(e.message),
  );
});

Deno.test("parseGeoJsonDetections() reports bad features with their index", () => {
  const ring = closed(PIXEL_CORNERS);
  const text = JSON.stringify({
    type: "FeatureCollection",
    features: [
      polygonFeature(ring, { class: "ship" }), // 0 ok
      { type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [1, 2] } }, // 1
      polygonFeature(ring.slice(0, 3)), // 2: triangle
      polygonFeature([...ring.slice(0, 4), [0, 0]]), // 3: 5 positions, not closed
      { type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [ring, ring] } }, // 4
      polygonFeature([[0, 0], [1, 1], [2, 2], [3, 3], [0, 0]]), // 5: degenerate
      polygonFeature(ring, { score: "high" }), // 6
      { type: "Feature", properties: {}, geometry: null }, // 7
      { type: "NotAFeature" }, // 8
      polygonFeature([[0, 0], [1, "a"], [2, 2], [3, 3]]), // 9
      polygonFeature(ring, { class: { nested: true } }), // 10
      polygonFeature(PIXEL_CORNERS.map((p) => [p.x, p.y, 12])), // 11 ok (z ignored)
    ],
  });
  const { detections, issues } = parseGeoJsonDetections(text, { source: "b.geojson" });
  assert.deepEqual(detections.map((d) => d.feature), [0, 11]);
  assert.deepEqual(issues.map((i) => i.feature), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(issues.every((i) => i.source === "b.geojson" && i.line === 0));
  const msg = new Map(issues.map((i) => [i.feature, i.message]));
  assert.match(msg.get(1)!, /^Cannot read feature 1: geometry is a Point/);
  assert.match(msg.get(2)!, /expected 4 corners .* got 3 positions/);
  assert.match(msg.get(3)!, /must end with its first position/);
  assert.match(msg.get(4)!, /exactly one ring, got 2/);
  assert.match(msg.get(5)!, /degenerate box/);
  assert.match(msg.get(6)!, /"score" must be a number/);
  assert.match(msg.get(7)!, /no geometry/);
  assert.match(msg.get(8)!, /not a GeoJSON Feature/);
  assert.match(msg.get(9)!, /position 1 is not a pair of finite numbers/);
  assert.match(msg.get(10)!, /"class" must be a string or a number/);
});

Deno.test("parseGeoJsonDetections() throws for a file that is not GeoJSON", () => {
  assert.throws(
    () => parseGeoJsonDetections("{not json", { source: "x.geojson" }),
    (e: unknown) =>
      e instanceof SyntaxError &&
      /^Cannot read GeoJSON detections from "x.geojson": not JSON/.test(e.message),
  );
  assert.throws(
    () => parseGeoJsonDetections('{"type":"Polygon","coordinates":[]}', { source: "x" }),
    SyntaxError,
  );
  const single = JSON.stringify(polygonFeature(closed(PIXEL_CORNERS), { class: "ship" }));
  assert.equal(parseGeoJsonDetections(single, { source: "x" }).detections.length, 1);
});

Deno.test("geoJsonCrsEpsg() reads the usual CRS names", () => {
  const named = (name: string) => ({ crs: { type: "name", properties: { name } } });
  assert.equal(geoJsonCrsEpsg(named("EPSG:3857")), 3857);
  assert.equal(geoJsonCrsEpsg(named("urn:ogc:def:crs:EPSG::32633")), 32633);
  assert.equal(geoJsonCrsEpsg(named("urn:ogc:def:crs:EPSG:6.6:2154")), 2154);
  assert.equal(geoJsonCrsEpsg(named("http://www.opengis.net/def/crs/EPSG/0/25832")), 25832);
  assert.equal(geoJsonCrsEpsg(named("urn:ogc:def:crs:OGC:1.3:CRS84")), 4326);
  assert.equal(geoJsonCrsEpsg({}), null);
  assert.throws(() => geoJsonCrsEpsg(named("local")), SyntaxError);
  assert.throws(() => geoJsonCrsEpsg({ crs: { type: "link" } }), SyntaxError);
});

Deno.test("parseGeoJsonDetections() names a feature whose geometry type is no string, and reads on", () => {
  let deep: unknown = "Polygon";
  for (let i = 0; i < 5000; i++) deep = [deep];
  const text = JSON.stringify({
    type: "FeatureCollection",
    features: [
      polygonFeature(closed(PIXEL_CORNERS), { class: "ship" }),
      { type: "Feature", properties: {}, geometry: { type: { toString: 1 }, coordinates: [] } },
      { type: "Feature", properties: {}, geometry: { type: deep, coordinates: [] } },
    ],
  });
  const { detections, issues } = parseGeoJsonDetections(text, { source: "g.geojson" });
  assert.equal(detections.length, 1);
  assert.deepEqual(issues.map((i) => i.feature), [1, 2]);
  assert.match(issues[0]!.message, /geometry is a \{"toString":1\}, expected a 4-corner Polygon/);
  assert.match(issues[1]!.message, /geometry is a \[\[\[\[.*\.\.\., expected a 4-corner Polygon/);
  assert.ok(issues.every((i) => i.message.length < 300), "messages stay short");
});

Deno.test("parseGeoJsonDetections(): lon/lat boxes (no crs member) off the image or on a raster without a georeference are refused, not read as pixels", () => {
  // a car near Rome: 4 m across, 0.00005 degrees
  const lonLat = [
    { x: 12.49, y: 41.89 },
    { x: 12.49005, y: 41.89 },
    { x: 12.49005, y: 41.89002 },
    { x: 12.49, y: 41.89002 },
  ];
  const text = JSON.stringify({
    type: "FeatureCollection",
    features: [polygonFeature(closed(lonLat))],
  });
  assert.throws(
    () =>
      parseGeoJsonDetections(text, { source: "d.geojson", imageSize: { width: 800, height: 600 } }),
    /WGS84 longitude\/latitude .* but the raster has no georeference/,
  );
  // GEOREF is in UTM 33N near 36 N, 15 E: Rome is not on it
  assert.throws(
    () =>
      parseGeoJsonDetections(text, {
        source: "d.geojson",
        georef: GEOREF,
        imageSize: { width: 800, height: 600 },
      }),
    /WGS84 longitude\/latitude .* do not fall on the image: another image's detections\?/,
  );
  // a pixel box near the origin is still pixels
  const small = [{ x: 1, y: 1 }, { x: 9, y: 1 }, { x: 9, y: 5 }, { x: 1, y: 5 }];
  const px = JSON.stringify({
    type: "FeatureCollection",
    features: [polygonFeature(closed(small))],
  });
  const { detections } = parseGeoJsonDetections(px, {
    source: "p.geojson",
    imageSize: { width: 800, height: 600 },
  });
  near(detections[0]!.box.cx, 5);
});

Deno.test("parseGeoJsonDetections() reads a MultiPolygon of one polygon as that polygon (shapefile, GPKG)", () => {
  const ring = closed(PIXEL_CORNERS);
  const multi = (polygons: unknown[]) => ({
    type: "Feature",
    properties: { class: "ship" },
    geometry: { type: "MultiPolygon", coordinates: polygons },
  });
  const text = JSON.stringify({
    type: "FeatureCollection",
    features: [polygonFeature(ring, { class: "ship" }), multi([[ring]]), multi([[ring], [ring]])],
  });
  const { detections, issues } = parseGeoJsonDetections(text, { source: "m.geojson" });
  assert.deepEqual(detections.map((d) => d.feature), [0, 1]);
  assert.deepEqual(detections[1]!.box, detections[0]!.box);
  assert.deepEqual(detections[1]!.corners, detections[0]!.corners);
  assert.deepEqual(issues, [{
    source: "m.geojson",
    line: 0,
    feature: 2,
    message: "Cannot read feature 2: geometry is a MultiPolygon of 2 polygons, expected one " +
      "4-corner polygon (one box per feature)",
  }]);
  // in map coordinates through a geotransform, as ogr2ogr -nlt MULTIPOLYGON writes them
  const mapRing = PIXEL_CORNERS.map((p) => applyGeoTransform(GEOREF.geoTransform, p))
    .map((p) => [p.x, p.y]);
  const mapText = JSON.stringify({
    type: "FeatureCollection",
    crs: { type: "name", properties: { name: "urn:ogc:def:crs:EPSG::32633" } },
    features: [multi([[[...mapRing, mapRing[0]!]]])],
  });
  const inMap = parseGeoJsonDetections(mapText, { source: "m.geojson", georef: GEOREF });
  assert.deepEqual(inMap.issues, []);
  near(inMap.detections[0]!.box.cx, detections[0]!.box.cx);
  near(inMap.detections[0]!.box.cy, detections[0]!.box.cy);
});
