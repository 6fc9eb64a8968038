import assert from "node:assert/strict";
import type { InstanceResult } from "../../src/formats/instance_result.ts";
import { CocoWriter } from "../../src/formats/coco_writer.ts";

function result(className: string, index: number, size: [number, number]): InstanceResult {
  return {
    detectionIndex: index,
    detection: {
      box: { cx: 5, cy: 4, width: 6, height: 2, angle: 0 },
      className,
      score: index === 2 ? null : 0.5 + index / 10,
      difficult: false,
      source: "labels.txt",
      line: index + 1,
    },
    polygons: [],
    rle: { size, counts: `${index}abc` },
    area: 12,
    bbox: [2, 3, 6, 2],
    predictedIou: 0.8765432,
  };
}

Deno.test("CocoWriter builds images, first-seen categories and annotations", () => {
  const coco = new CocoWriter();
  const a = coco.addImage({ fileName: "P0706.png", width: 1111, height: 1182 });
  const b = coco.addImage({ fileName: "P1888.png", width: 712, height: 557 });
  assert.deepEqual([a, b], [1, 2]);
  assert.equal(coco.addAnnotation(a, result("ship", 0, [1182, 1111])), 1);
  assert.equal(coco.addAnnotation(b, result("large-vehicle", 1, [557, 712])), 2);
  assert.equal(coco.addAnnotation(a, result("ship", 2, [1182, 1111])), 3);
  assert.equal(coco.addAnnotation(b, result("harbor", 3, [557, 712])), 4);
  assert.equal(coco.imageCount, 2);
  assert.equal(coco.annotationCount, 4);

  const json = JSON.parse(coco.toText());
  assert.deepEqual(Object.keys(json), ["info", "images", "categories", "annotations"]);
  assert.deepEqual(json.images, [
    { id: 1, file_name: "P0706.png", width: 1111, height: 1182 },
    { id: 2, file_name: "P1888.png", width: 712, height: 557 },
  ]);
  assert.deepEqual(json.categories, [
    { id: 1, name: "ship" },
    { id: 2, name: "large-vehicle" },
    { id: 3, name: "harbor" },
  ]);
  assert.deepEqual(
    json.annotations.map((x: Record<string, unknown>) => [x.id, x.image_id, x.category_id]),
    [[1, 1, 1], [2, 2, 2], [3, 1, 1], [4, 2, 3]],
  );
  const first = json.annotations[0];
  assert.deepEqual(Object.keys(first).sort(), [
    "area",
    "bbox",
    "category_id",
    "detection_index",
    "id",
    "image_id",
    "iscrowd",
    "obb",
    "predicted_iou",
    "score",
    "segmentation",
    "source_file",
    "source_line",
    "source_record",
  ]);
  assert.deepEqual(first.segmentation, { size: [1182, 1111], counts: "0abc" });
  assert.deepEqual(first.bbox, [2, 3, 6, 2]);
  assert.equal(first.area, 12);
  assert.equal(first.iscrowd, 0);
  assert.equal(first.score, 0.5);
  assert.equal(first.predicted_iou, 0.8765);
  assert.equal(first.detection_index, 0);
  assert.deepEqual([first.source_file, first.source_line, first.source_record], [
    "labels.txt",
    1,
    null,
  ]);
  assert.deepEqual(first.obb, [2, 3, 8, 3, 8, 5, 2, 5]);
  assert.equal(json.annotations[2].score, null, "no detector score: null");
});

Deno.test("CocoWriter numbers given categories first", () => {
  const coco = new CocoWriter({ categories: ["plane", "ship"], info: { run: "x" } });
  const id = coco.addImage({ fileName: "a.png", width: 10, height: 8 });
  coco.addAnnotation(id, result("helicopter", 0, [8, 10]));
  coco.addAnnotation(id, result("ship", 1, [8, 10]));
  const json = JSON.parse(coco.toText());
  assert.deepEqual(json.info, { run: "x" });
  assert.deepEqual(json.categories, [
    { id: 1, name: "plane" },
    { id: 2, name: "ship" },
    { id: 3, name: "helicopter" },
  ]);
  assert.deepEqual(json.annotations.map((x: { category_id: number }) => x.category_id), [3, 2]);
  assert.equal([...coco.chunks()].join(""), coco.toText());
});

Deno.test("CocoWriter serialises an empty run as valid COCO", () => {
  const json = JSON.parse(new CocoWriter().toText());
  assert.deepEqual(json.images, []);
  assert.deepEqual(json.categories, []);
  assert.deepEqual(json.annotations, []);
});

Deno.test("CocoWriter rejects unknown images, size mismatches and duplicate files", () => {
  const coco = new CocoWriter();
  const id = coco.addImage({ fileName: "a.png", width: 10, height: 8 });
  assert.throws(
    () => coco.addAnnotation(99, result("ship", 0, [8, 10])),
    (e: unknown) => e instanceof RangeError && /no image with id 99/.test(e.message),
  );
  assert.throws(
    () => coco.addAnnotation(id, result("ship", 0, [10, 8])),
    (e: unknown) =>
      e instanceof RangeError && /RLE size \[10, 8\].*\[height, width\] \[8, 10\]/.test(e.message),
  );
  assert.throws(
    () => coco.addImage({ fileName: "a.png", width: 10, height: 8 }),
    (e: unknown) => e instanceof RangeError && /^Cannot add image "a.png" to COCO/.test(e.message),
  );
  assert.throws(() => coco.addImage({ fileName: "b.png", width: 0, height: 8 }), RangeError);
  assert.throws(() => coco.addImage({ fileName: "c.png", width: 1.5, height: 8 }), RangeError);
  assert.equal(coco.annotationCount, 0);
  assert.equal(coco.imageCount, 1);
});

Deno.test("CocoWriter writes box_moved only for a box the box search ran on", () => {
  const coco = new CocoWriter();
  const id = coco.addImage({ fileName: "a.png", width: 10, height: 8 });
  for (const [i, boxMoved] of [true, false, undefined].entries()) {
    coco.addAnnotation(id, { ...result("ship", i, [8, 10]), boxMoved });
  }
  const json = JSON.parse(coco.toText());
  assert.deepEqual(
    json.annotations.map((a: Record<string, unknown>) => ["box_moved" in a, a.box_moved]),
    [[true, true], [true, false], [false, undefined]],
  );
});
