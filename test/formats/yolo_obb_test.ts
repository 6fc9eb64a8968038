import assert from "node:assert/strict";
import { parseDota } from "../../src/formats/dota.ts";
import { parseYoloObb } from "../../src/formats/yolo_obb.ts";

function near(actual: number, expected: number, tol = 1e-9) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} !~ ${expected}`);
}

Deno.test("parseYoloObb() scales normalised corners by the image size", () => {
  const text = [
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2",
    "2 0.5 0.5 0.7 0.5 0.7 0.9 0.5 0.9 0.42",
  ].join("\n");
  const { detections, issues } = parseYoloObb(text, {
    source: "a.txt",
    imageWidth: 1000,
    imageHeight: 500,
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(detections.map((d) => [d.className, d.score, d.line]), [
    ["0", null, 1],
    ["2", 0.42, 2],
  ]);
  const [a, b] = detections as [typeof detections[0], typeof detections[0]];
  near(a.box.cx, 200);
  near(a.box.cy, 75);
  near(a.box.width * a.box.height, 200 * 50, 1e-6);
  near(b.box.cx, 600);
  near(b.box.cy, 350);
  near(a.corners![2]!.x, 300);
  near(a.corners![2]!.y, 100);
  // every column written as a float (np.savetxt "%.6f"): the same detections, names by id
  const floats = text.split("\n").map((l) =>
    l.split(" ").map((v) => Number(v).toFixed(6)).join(" ")
  ).join("\n");
  const again = parseYoloObb(floats, {
    source: "a.txt",
    imageWidth: 1000,
    imageHeight: 500,
    classNames: ["plane", "ship", "tank"],
  });
  assert.deepEqual(again.issues, []);
  assert.deepEqual(again.detections.map((d) => [d.className, d.score]), [
    ["plane", null],
    ["tank", 0.42],
  ]);
  near(again.detections[1]!.box.cx, 600);
});

Deno.test("parseYoloObb() matches DOTA on the same box", () => {
  const w = 1111, h = 1182;
  const dota = parseDota("1054 1028 1063 1011 1111 1040 1112 1062 ship 1", { source: "d" });
  const xs = [1054, 1063, 1111, 1112], ys = [1028, 1011, 1040, 1062];
  const yolo = `0 ${xs.map((x, i) => `${x / w} ${ys[i]! / h}`).join(" ")}`;
  const parsed = parseYoloObb(yolo, {
    source: "y",
    imageWidth: w,
    imageHeight: h,
    classNames: ["ship"],
  });
  const d = dota.detections[0]!.box, y = parsed.detections[0]!.box;
  near(y.cx, d.cx, 1e-6);
  near(y.cy, d.cy, 1e-6);
  near(y.width, d.width, 1e-6);
  near(y.height, d.height, 1e-6);
  near(y.angle, d.angle, 1e-6);
  assert.equal(parsed.detections[0]!.className, "ship");
  // Corner (1112, 1062) is just past the image's right edge: allowed.
  assert.ok(xs[3]! / w > 1);
});

Deno.test("parseYoloObb() reports malformed lines and goes on", () => {
  const text = [
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2", // 1 ok
    "1.5 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2", // 2 class id
    "-1 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2", // 3 class id
    "3 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2", // 4 out of range
    "0 0.1 0.1 0.3 0.1 0.3 0.2", // 5 field count
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 zz", // 6 non-number
    "0 120 130 300 130 300 200 120 200", // 7 pixels
    "0 0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1", // 8 degenerate
    "0 -0.05 -0.05 1.05 -0.05 1.05 1.05 -0.05 1.05 0.9", // 9 ok, off the image
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2 conf", // 10 bad conf
    "# comment",
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2 0.8 17", // 12 ok: conf and a tracker's id
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2 17", // 13 a tracker's id in conf's place
    "0 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2 0.8 17 4", // 14 field count
  ].join("\n");
  const { detections, issues } = parseYoloObb(text, {
    source: "y.txt",
    imageWidth: 100,
    imageHeight: 100,
    classNames: ["plane", "ship", "harbor"],
  });
  assert.deepEqual(detections.map((d) => d.line), [1, 9, 12]);
  assert.equal(detections[2]!.score, 0.8);
  assert.deepEqual(issues.map((i) => i.line), [2, 3, 4, 5, 6, 7, 8, 10, 13, 14]);
  const byLine = new Map(issues.map((i) => [i.line, i.message]));
  for (const m of byLine.values()) assert.match(m, /^Cannot read YOLO-OBB box: /);
  assert.match(byLine.get(2)!, /class id must be a non-negative integer, got "1.5"/);
  assert.match(byLine.get(3)!, /got "-1"/);
  assert.match(byLine.get(4)!, /class id 3 is out of range for 3 class names/);
  assert.match(byLine.get(5)!, /got 7/);
  assert.match(byLine.get(6)!, /y4 is not a number: "zz"/);
  assert.match(byLine.get(7)!, /x1 = 120 is far outside \[0, 1\].*pixel coordinates/);
  assert.match(byLine.get(8)!, /degenerate box/);
  assert.match(byLine.get(10)!, /conf is not a number/);
  assert.match(byLine.get(13)!, /conf 17 is no confidence: a tracker's id\?/);
  assert.match(byLine.get(14)!, /expected 9 to 11 fields .*got 12/);
  assert.ok(issues.every((i) => i.source === "y.txt"));
});

Deno.test("parseYoloObb() rejects a bad image size", () => {
  for (const [imageWidth, imageHeight] of [[0, 10], [10, -1], [NaN, 10], [10, Infinity]]) {
    assert.throws(
      () =>
        parseYoloObb("", { source: "y.txt", imageWidth: imageWidth!, imageHeight: imageHeight! }),
      (e: unknown) =>
        e instanceof RangeError && /^Cannot read YOLO-OBB file "y.txt"/.test(e.message),
    );
  }
});

Deno.test("parseYoloObb() checks box size in pixels, after scaling: small normalised boxes pass", () => {
  // 0.002 x 0.004 of a 1000 x 500 image: a 2 x 2 px car, normalised as YOLO-OBB is
  const car = "0 0.100 0.100 0.102 0.100 0.102 0.104 0.100 0.104";
  const size = { source: "a.txt", imageWidth: 1000, imageHeight: 500 };
  assert.deepEqual(parseYoloObb(car, size).issues, []);
  near(parseYoloObb(car, size).detections[0]!.box.width * 1, 2, 1e-9);
  // normalised by a 10x larger image (or twice): under a pixel here, skipped with its line
  const twice = "1 0.0100 0.0100 0.0102 0.0100 0.0102 0.0104 0.0100 0.0104";
  const { detections, issues } = parseYoloObb(`${car}\n${twice}\n`, size);
  assert.equal(detections.length, 1);
  assert.deepEqual(issues, [{
    source: "a.txt",
    line: 2,
    message: "Cannot read YOLO-OBB box: box smaller than a pixel: 0.2 x 0.2 px; corners scaled " +
      "by the image size (1000 x 500 px): are they normalised by another size?",
  }]);
  assert.throws(
    () => parseYoloObb(twice, size),
    (e: Error) =>
      e instanceof TypeError &&
      e.message === 'Cannot read YOLO-OBB boxes from "a.txt": all 1 box(es) are smaller than a ' +
          "pixel (line 1: 0.2 x 0.2 px); YOLO-OBB corners are normalised by the image size " +
          "(1000 x 500 px): are these in degrees, or normalised by another size?",
  );
});
