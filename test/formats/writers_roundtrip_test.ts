// Writers fed by the real mask pipeline pieces (traceMask, encodeRle): the
// GeoJSON rasterises back to the mask, the COCO RLE decodes to it (decodeRle is row-major).
import assert from "node:assert/strict";
import { decodeRle, encodeRle, rleArea, rleBbox } from "../../src/masks/rle.ts";
import { traceMask } from "../../src/masks/polygon.ts";
import { rasterizePolygon } from "../../src/masks/rasterize.ts";
import type { MaskWindow } from "../../src/masks/mask_window.ts";
import type { Point } from "../../src/geometry/oriented_box.ts";
import type { Polygon } from "../../src/masks/polygon.ts";
import type { Georef } from "../../src/raster/source.ts";
import { parseDota } from "../../src/formats/dota.ts";
import type { InstanceResult } from "../../src/formats/instance_result.ts";
import {
  type InstanceGeometry,
  instancesToFeatureCollection,
} from "../../src/formats/geojson_writer.ts";
import { CocoWriter } from "../../src/formats/coco_writer.ts";
import { applyGeoTransform, invertGeoTransform } from "../../src/formats/geo_transform.ts";

const W = 24, H = 20;

// Two parts; the first has a hole and touches the image edge.
function makeMask(): MaskWindow {
  const width = 14, height = 10, x0 = 0, y0 = 5;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) data[y * width + x] = 1;
  for (let y = 3; y < 5; y++) for (let x = 3; x < 5; x++) data[y * width + x] = 0;
  for (let y = 2; y < 6; y++) for (let x = 11; x < 14; x++) data[y * width + x] = 1;
  return { x0, y0, width, height, data };
}

function fullImage(mask: MaskWindow): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      out[(mask.y0 + y) * W + mask.x0 + x] = mask.data[y * mask.width + x]!;
    }
  }
  return out;
}

function instance(): InstanceResult {
  const mask = makeMask();
  const rle = encodeRle(mask, W, H);
  const detection = parseDota("1 6 9 6 9 14 1 14 ship 0", { source: "P.txt" }).detections[0]!;
  return {
    detectionIndex: 0,
    detection,
    polygons: traceMask(mask),
    rle,
    area: rleArea(rle),
    bbox: rleBbox(rle),
    predictedIou: 0.9,
  };
}

function polygonsOf(geometry: InstanceGeometry | null): Polygon[] {
  assert.ok(geometry !== null);
  const parts = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return parts.map((rings) => rings.map((ring) => ring.slice(0, -1).map(([x, y]) => ({ x, y }))));
}

function rasterizeAll(polygons: Polygon[]): Uint8Array {
  const out = new Uint8Array(W * H);
  for (const polygon of polygons) {
    const m = rasterizePolygon(polygon, { width: W, height: H, rule: "center" });
    for (let y = 0; y < m.height; y++) {
      for (let x = 0; x < m.width; x++) {
        if (m.data[y * m.width + x]) out[(m.y0 + y) * W + m.x0 + x] = 1;
      }
    }
  }
  return out;
}

Deno.test("instancesToFeatureCollection() pixel output rasterises back to the mask", () => {
  const result = instance();
  const expected = fullImage(makeMask());
  const fc = instancesToFeatureCollection([result], { sourceImage: "P.png" });
  const feature = fc.features[0]!;
  assert.equal(feature.geometry?.type, "MultiPolygon");
  assert.equal(feature.properties.area_px, 64 - 4 + 12);
  assert.deepEqual(rasterizeAll(polygonsOf(feature.geometry)), expected);
});

Deno.test("instancesToFeatureCollection() map output maps back to the mask", () => {
  const georef: Georef = { geoTransform: [300000, 2, 0, 5000000, 0, -2], epsg: 32631, wkt: null };
  const inverse = invertGeoTransform(georef.geoTransform);
  const fc = instancesToFeatureCollection([instance()], { sourceImage: "P.tif", georef });
  const toPixel = (p: Point) => applyGeoTransform(inverse, p);
  const pixelPolygons = polygonsOf(fc.features[0]!.geometry).map((poly) =>
    poly.map((ring) => ring.map(toPixel))
  );
  assert.deepEqual(rasterizeAll(pixelPolygons), fullImage(makeMask()));
});

Deno.test("CocoWriter annotations decode to the mask", () => {
  const result = instance();
  const coco = new CocoWriter();
  const id = coco.addImage({ fileName: "P.png", width: W, height: H });
  coco.addAnnotation(id, result);
  const json = JSON.parse(coco.toText());
  const ann = json.annotations[0];
  assert.deepEqual(ann.segmentation.size, [H, W]);
  assert.deepEqual(decodeRle(ann.segmentation), fullImage(makeMask()));
  assert.equal(ann.area, 72);
  assert.deepEqual(ann.bbox, [0, 5, 14, 8]);
  assert.deepEqual(ann.obb, [1, 6, 9, 6, 9, 14, 1, 14]);
});
