// featureCollectionToFlatGeobuf() read back by GDAL (ogr2ogr, as QGIS reads it): the optional
// properties' nullable columns, box_moved's column only where the box search ran.
import assert from "node:assert/strict";
import { featureCollectionToFlatGeobuf } from "../../src/formats/flatgeobuf_writer.ts";
import type {
  InstanceFeatureCollection,
  InstanceProperties,
} from "../../src/formats/geojson_writer.ts";
import { gdal } from "../raster/_fixtures.ts";

function collection(extra: Partial<InstanceProperties>[]): InstanceFeatureCollection {
  return {
    type: "FeatureCollection",
    name: "a",
    "sopseg:coordinates": "pixel",
    features: extra.map((more, i) => ({
      type: "Feature",
      geometry: {
        type: "Polygon",
        coordinates: [[[i * 10, 0], [i * 10 + 4, 0], [i * 10 + 4, 4], [i * 10, 4], [i * 10, 0]]],
      },
      properties: {
        class: "ship",
        score: 0.9,
        predicted_iou: 0.95,
        obb: [i * 10, 0, i * 10 + 4, 0, i * 10 + 4, 4, i * 10, 4],
        obb_pixel: [i * 10 + 2, 2, 4, 4, 0],
        source_image: "a.png",
        detection_index: i,
        source_file: null,
        source_line: null,
        source_record: null,
        area_px: 16,
        ...more,
      },
    })),
  };
}

/** The file's bytes, its pieces joined. */
function fgbBytes(fc: InstanceFeatureCollection, options: { boxMoved?: boolean }): Uint8Array {
  const pieces = [...featureCollectionToFlatGeobuf(fc, { epsg: null, ...options })];
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The file's fields (name: type) and each feature's properties, by detection_index, via GDAL. */
async function readBack(
  fc: InstanceFeatureCollection,
  options: { boxMoved?: boolean } = {},
): Promise<{ fields: string[]; rows: Record<string, unknown>[] }> {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-fgb-" });
  try {
    const file = `${dir}/a.fgb`;
    await Deno.writeFile(file, fgbBytes(fc, options));
    const info = new TextDecoder().decode(await gdal("ogrinfo", ["-ro", "-al", "-so", file]));
    const fields = [...info.matchAll(/^(\w+): (\w+(?:\(\w+\))?) /gm)]
      .map((m) => `${m[1]}: ${m[2]}`)
      .filter((f) => !/^(Geometry|Layer name|Feature Count|Extent)/.test(f));
    const json = JSON.parse(
      new TextDecoder().decode(await gdal("ogr2ogr", ["-f", "GeoJSON", "/vsistdout/", file])),
    );
    // a field a feature does not set is left out of GDAL's GeoJSON: read as null (QGIS: NULL)
    const names = fields.map((f) => f.split(":")[0]!);
    const rows = (json.features as { properties: Record<string, unknown> }[])
      .map((f) => Object.fromEntries(names.map((n) => [n, f.properties[n] ?? null])))
      .sort((a, b) => (a.detection_index as number) - (b.detection_index as number));
    return { fields, rows };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("featureCollectionToFlatGeobuf() writes box_moved as a nullable column, null where absent", async () => {
  const fc = collection([{ box_moved: true }, { box_moved: false }, {}]);
  const { fields, rows } = await readBack(fc);
  assert.ok(fields.includes("box_moved: Integer(Boolean)"), fields.join("\n"));
  assert.deepEqual(rows.map((r) => r.box_moved), [true, false, null]);
  // in_training_classes left out reads as null too, not false (as buildFeature alone wrote it)
  assert.deepEqual(rows.map((r) => r.in_training_classes), [null, null, null]);
});

Deno.test("featureCollectionToFlatGeobuf() has no box_moved column without the box search, unless asked", async () => {
  const fc = collection([{ in_training_classes: true }, { in_training_classes: false }]);
  const plain = await readBack(fc);
  assert.ok(!plain.fields.some((f) => f.startsWith("box_moved")), plain.fields.join("\n"));
  assert.ok(plain.fields.includes("in_training_classes: Integer(Boolean)"));
  assert.deepEqual(plain.rows.map((r) => r.in_training_classes), [true, false]);
  // the same bytes as a file written with boxMoved: false
  assert.deepEqual(fgbBytes(fc, {}), fgbBytes(fc, { boxMoved: false }));
  // a box-searched run's file whose boxes were all on the small graphs: the column, empty
  const asked = await readBack(fc, { boxMoved: true });
  assert.ok(asked.fields.includes("box_moved: Integer(Boolean)"), asked.fields.join("\n"));
  assert.deepEqual(asked.rows.map((r) => r.box_moved), [null, null]);
  assert.deepEqual(asked.rows.map((r) => r.in_training_classes), [true, false]);
});
