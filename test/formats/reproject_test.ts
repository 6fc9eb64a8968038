import assert from "node:assert/strict";
import { reprojection } from "../../src/formats/reproject.ts";
import { parseGeoJsonDetections } from "../../src/formats/geojson_detections.ts";
import { boxCorners } from "../../src/geometry/oriented_box.ts";
import { applyGeoTransform } from "../../src/formats/geo_transform.ts";
import type { Georef } from "../../src/raster/source.ts";

/** `gdaltransform -s_srs EPSG:<code> -t_srs EPSG:4326` of points (PROJ's answer). */
async function gdalToWgs84(epsg: number, points: number[][]): Promise<number[][]> {
  const child = new Deno.Command("gdaltransform", {
    args: ["-output_xy", "-s_srs", `EPSG:${epsg}`, "-t_srs", "EPSG:4326"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(points.map((p) => `${p[0]} ${p[1]}\n`).join("")));
  await w.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
    l.trim().split(/\s+/).map(Number)
  );
}

// Points inside each CRS's area of use. Datum shifts: none (WGS84, ETRS89/RGF93 as
// WGS84, NAD83 as WGS84) or the same Helmert parameters PROJ uses (31287, 2056).
const CASES: [number, number[][]][] = [
  [32633, [[500000, 5200000], [612345.6, 4000000.25]]],
  [32733, [[400000, 7000000], [500000, 9999999]]],
  [25832, [[450000, 5500000]]],
  [26918, [[580000, 4500000]]],
  [3857, [[1669792.36, 5942074.07], [-8238310.24, 4970071.58]]],
  [2154, [[652000, 6862000], [900000, 6200000]]],
  [3035, [[4321000, 3210000], [3500000, 2500000]]],
  [31287, [[400000, 400000]]],
  [2056, [[2600000, 1200000]]],
  [3413, [[0, -2000000]]],
];

for (const [epsg, points] of CASES) {
  Deno.test(`reprojection() EPSG:${epsg} -> WGS84 matches gdaltransform within 1e-7 deg`, async () => {
    const r = reprojection({ epsg, wkt: null });
    const expected = await gdalToWgs84(epsg, points);
    points.forEach(([x, y], i) => {
      const ll = r.toWgs84({ x: x!, y: y! });
      const [lon, lat] = expected[i]!;
      assert.ok(
        Math.abs(ll.x - lon!) < 1e-7 && Math.abs(ll.y - lat!) < 1e-7,
        `EPSG:${epsg} (${x}, ${y}): ${ll.x}, ${ll.y} vs ${lon}, ${lat}`,
      );
      const back = r.fromWgs84(ll);
      // proj4js inverts LAEA and Helmert shifts iteratively: a round trip within 1 mm.
      assert.ok(Math.abs(back.x - x!) < 1e-3 && Math.abs(back.y - y!) < 1e-3);
    });
  });
}

Deno.test("reprojection() names an EPSG code it does not know", () => {
  assert.throws(() => reprojection({ epsg: 28992, wkt: null }), /EPSG:28992.*--crs raster/);
  assert.throws(() => reprojection({ epsg: null, wkt: null }), /names no CRS/);
});

Deno.test("parseGeoJsonDetections() reads RFC 7946 longitude/latitude onto a UTM raster", () => {
  const georef: Georef = {
    geoTransform: [500000, 0.5, 0, 5200000, 0, -0.5],
    epsg: 32633,
    wkt: null,
  };
  const r = reprojection(georef);
  const box = { cx: 120, cy: 80, width: 40, height: 16, angle: 0.3 };
  const ring = boxCorners(box).map((p) => {
    const ll = r.toWgs84(applyGeoTransform(georef.geoTransform, p));
    return [ll.x, ll.y];
  });
  const fc = (crs?: unknown) =>
    JSON.stringify({
      type: "FeatureCollection",
      ...(crs ? { crs } : {}),
      features: [{
        type: "Feature",
        properties: { class: "car" },
        geometry: { type: "Polygon", coordinates: [[...ring, ring[0]]] },
      }],
    });
  for (
    const text of [
      fc(), // RFC 7946: no crs member
      fc({ type: "name", properties: { name: "urn:ogc:def:crs:OGC:1.3:CRS84" } }),
    ]
  ) {
    const { detections, issues } = parseGeoJsonDetections(text, {
      source: "d.geojson",
      georef,
      imageSize: { width: 600, height: 400 },
    });
    assert.deepEqual(issues, []);
    const got = detections[0]!.box;
    assert.ok(
      Math.abs(got.cx - box.cx) < 1e-4 && Math.abs(got.cy - box.cy) < 1e-4,
      JSON.stringify(got),
    );
    assert.ok(Math.abs(got.width - box.width) < 1e-4 && Math.abs(got.height - box.height) < 1e-4);
  }
});
