import assert from "node:assert/strict";
import {
  type AngleConvention,
  boxCorners,
  type OrientedBox,
} from "../../src/geometry/oriented_box.ts";
import {
  AngleConventionError,
  looksLikeMmrotateJson,
  parseMmrotateJson,
} from "../../src/formats/mmrotate_json.ts";

function near(actual: number, expected: number, tol = 1e-9) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} !~ ${expected}`);
}

/** Same rectangle: the same corners up to their order. */
function sameRectangle(a: OrientedBox, b: OrientedBox) {
  const key = (p: { x: number; y: number }) => `${p.x.toFixed(6)},${p.y.toFixed(6)}`;
  assert.deepEqual(boxCorners(a).map(key).sort(), boxCorners(b).map(key).sort());
}

const one = (bbox: number[], extra: Record<string, unknown> = {}) =>
  JSON.stringify([{ image_id: "P0001", bbox, score: 0.5, category_id: 0, ...extra }]);

Deno.test("parseMmrotateJson() reads one rectangle the same in every angle convention", () => {
  // A 40 x 10 box at (100, 50) whose long side points 120 degrees from +x towards +y (y down):
  // each convention writes it differently.
  const expected = { cx: 100, cy: 50, width: 40, height: 10, angle: -Math.PI / 3 };
  const forms: [AngleConvention, number[]][] = [
    ["le90", [100, 50, 40, 10, -Math.PI / 3]], // [-pi/2, pi/2)
    ["le135", [100, 50, 40, 10, (2 * Math.PI) / 3]], // [-pi/4, 3pi/4)
    ["oc", [100, 50, 10, 40, Math.PI / 6]], // (0, pi/2]: the short side's direction, w and h swapped
    // mmrotate 1.x's oc, [-pi/2, 0): the same rectangle, as its regularize_boxes("oc") writes it
    ["oc", [100, 50, 40, 10, -Math.PI / 3]],
    ["degrees", [100, 50, 40, 10, 120]],
    ["radians", [100, 50, 40, 10, -Math.PI / 3 + 2 * Math.PI]],
  ];
  for (const [angleConvention, bbox] of forms) {
    const { byImage, issues } = parseMmrotateJson(one(bbox), {
      source: "r.bbox.json",
      angleConvention,
    });
    assert.deepEqual(issues, [], angleConvention);
    sameRectangle(byImage.get("P0001")![0]!.box, expected);
  }
  // le135's angle read as le90 is out of range: an issue, not a box turned the wrong way
  const { byImage, issues } = parseMmrotateJson(one([100, 50, 40, 10, (2 * Math.PI) / 3]), {
    source: "r.bbox.json",
    angleConvention: "le90",
  });
  assert.equal(byImage.size, 0);
  assert.match(issues[0]!.message, /record 0 \(image P0001\): .*outside the le90 range/);
});

Deno.test("parseMmrotateJson() needs the angle convention for rotated boxes, not for corners", () => {
  assert.throws(
    () => parseMmrotateJson(one([100, 50, 40, 10, 0.5]), { source: "work/r.bbox.json" }),
    (e) =>
      e instanceof AngleConventionError && /work\/r\.bbox\.json/.test(e.message) &&
      /--angle-convention/.test(e.message),
  );
  const corners = [10, 10, 30, 10, 30, 20, 10, 20];
  const { byImage, issues } = parseMmrotateJson(one(corners), { source: "q.bbox.json" });
  assert.deepEqual(issues, []);
  const [d] = byImage.get("P0001")!;
  near(d!.box.cx, 20);
  near(d!.box.cy, 15);
  assert.deepEqual(d!.corners, [
    { x: 10, y: 10 },
    { x: 30, y: 10 },
    { x: 30, y: 20 },
    { x: 10, y: 20 },
  ]);
});

Deno.test("parseMmrotateJson() names classes by id, keeps scores, groups by image id", () => {
  const text = JSON.stringify([
    { image_id: "P0001", bbox: [20, 15, 20, 10, 0], score: 0.9, category_id: 1 },
    { image_id: 7, bbox: [20, 15, 20, 10, 0], score: 0.4, category_id: 0 },
    { image_id: "P0001", bbox: [60, 15, 20, 10, 0], category_id: 0 },
  ]);
  const named = parseMmrotateJson(text, {
    source: "r.bbox.json",
    angleConvention: "le90",
    classNames: ["plane", "ship"],
  });
  assert.deepEqual(named.issues, []);
  assert.deepEqual([...named.byImage.keys()], ["P0001", "7"]);
  assert.deepEqual(
    named.byImage.get("P0001")!.map((d) => [d.className, d.score, d.feature, d.source]),
    [["ship", 0.9, 0, "r.bbox.json"], ["plane", null, 2, "r.bbox.json"]],
  );
  const ids = parseMmrotateJson(text, { source: "r.bbox.json", angleConvention: "le90" });
  assert.deepEqual(ids.byImage.get("7")!.map((d) => d.className), ["0"]);
});

Deno.test("parseMmrotateJson() skips bad records, naming each, and reads the rest", () => {
  const text = JSON.stringify([
    { image_id: "a", bbox: [20, 15, 20, 10, 0], score: 0.9, category_id: 0 },
    { image_id: "a", bbox: [1, 2, 3, 4], score: 0.9, category_id: 0 },
    { image_id: "a", bbox: [20, 15, 0, 10, 0], score: 0.9, category_id: 0 },
    { image_id: "a", bbox: [20, 15, 20, 10, 0], score: "high", category_id: 0 },
    { image_id: "a", bbox: [20, 15, 20, 10, 0], score: 0.9, category_id: 5 },
    { bbox: [20, 15, 20, 10, 0], score: 0.9, category_id: 0 },
    [1, 2, 3],
    { image_id: "a", bbox: [20, 15, 20, null, 0], score: 0.9, category_id: 0 },
  ]);
  const { byImage, issues } = parseMmrotateJson(text, {
    source: "r.bbox.json",
    angleConvention: "le90",
    classNames: ["car"],
  });
  assert.equal(byImage.get("a")!.length, 1);
  assert.deepEqual(issues.map((i) => [i.feature, i.line, i.source]), [
    [1, 0, "r.bbox.json"],
    [2, 0, "r.bbox.json"],
    [3, 0, "r.bbox.json"],
    [4, 0, "r.bbox.json"],
    [5, 0, "r.bbox.json"],
    [6, 0, "r.bbox.json"],
    [7, 0, "r.bbox.json"],
  ]);
  const messages = issues.map((i) => i.message);
  assert.match(messages[0]!, /record 1 \(image a\): bbox must be/);
  assert.match(messages[1]!, /degenerate box/);
  assert.match(messages[2]!, /score is not a finite number/);
  assert.match(messages[3]!, /category_id 5 is out of range for 1 class names/);
  assert.match(messages[4]!, /record 5: image_id must be/);
  assert.match(messages[5]!, /record 6: not an object/);
  assert.match(messages[6]!, /bbox h is not a finite number/);
});

Deno.test("parseMmrotateJson() refuses what is not mmrotate's results array", () => {
  assert.throws(() => parseMmrotateJson("[{", { source: "x.json" }), /x\.json.*not JSON/);
  assert.throws(
    () => parseMmrotateJson('{"type": "FeatureCollection"}', { source: "x.json" }),
    /expected a JSON array/,
  );
  assert.equal(looksLikeMmrotateJson("\uFEFF\n [ ]"), true);
  assert.equal(looksLikeMmrotateJson('{"features": []}'), false);
});

Deno.test("parseMmrotateJson() refuses boxes out of range, vanishing sides and absurd angles, one issue each", () => {
  const records = [
    { image_id: "a", bbox: [1e308, 1e308, 1e308, 1e308, 0], score: 0.9, category_id: 0 },
    { image_id: "a", bbox: [20, 20, 5e-324, 5e-324, 0], score: 0.9, category_id: 0 },
    { image_id: "a", bbox: [20, 20, 10, 5, 1e300], score: 0.9, category_id: 0 },
    { image_id: "a", bbox: [20, 20, 10, 5, 30], score: 0.9, category_id: 0 },
  ];
  const { byImage, issues } = parseMmrotateJson(JSON.stringify(records), {
    source: "r.json",
    angleConvention: "degrees",
  });
  assert.equal(byImage.get("a")?.length, 1, "the good record is read");
  assert.deepEqual(
    issues.map((i) => i.message.match(/out of range|degenerate|another unit/)?.[0]),
    [
      "out of range",
      "degenerate",
      "another unit",
    ],
  );
});

Deno.test("parseMmrotateJson() reads Python's NaN and Infinity: their records named and skipped, the rest read", () => {
  // json.dump writes float('nan') as NaN: not JSON, but what a diverged model's results hold
  const text = `[
    {"image_id": "P1", "bbox": [100, 50, 40, 10, 0.1], "score": 0.9, "category_id": 0},
    {"image_id": "P1", "bbox": [100, 50, 40, 10, 0.1], "score": NaN, "category_id": 0},
    {"image_id": "P1", "bbox": [100, 50, -Infinity, 10, 0.1], "score": 0.5, "category_id": 0},
    {"image_id": "NaN Infinity \\" NaN", "bbox": [10, 10, 4, 2, 0], "score": Infinity, "category_id": 0}
  ]`;
  assert.throws(() => JSON.parse(text));
  const { byImage, issues } = parseMmrotateJson(text, {
    source: "r.json",
    angleConvention: "le90",
  });
  assert.equal(byImage.get("P1")!.length, 1);
  assert.deepEqual(issues.map((i) => i.message), [
    "Cannot read mmrotate record 1 (image P1): score is NaN",
    "Cannot read mmrotate record 2 (image P1): bbox w is -Infinity",
    'Cannot read mmrotate record 3 (image NaN Infinity " NaN): score is Infinity',
  ]);
  // still not JSON for other reasons: the parser's own message
  assert.throws(
    () => parseMmrotateJson("[{NaN}]", { source: "r.json", angleConvention: "le90" }),
    /r\.json.*not JSON/,
  );
});

Deno.test("parseMmrotateJson() warns when the angles look like the other unit than stated", () => {
  const angles = [0.1, -0.4, 1.2, 0.7, -1.5, 0.3, 0.9, -0.2];
  const text = JSON.stringify(angles.map((a, i) => ({
    image_id: "P1",
    bbox: [100 + 30 * i, 50, 40, 10, a],
    score: 0.9,
    category_id: 0,
  })));
  const asDegrees = parseMmrotateJson(text, { source: "r.json", angleConvention: "degrees" });
  assert.equal(asDegrees.byImage.get("P1")!.length, 8); // read as told, and said
  assert.deepEqual(asDegrees.warnings, [
    'mmrotate results "r.json": all 8 angles are within +-pi (the largest 1.5), read as degrees as --angle-convention degrees says: if they are radians, give the detector\'s angle_version (le90, le135, oc) or radians instead',
  ]);
  assert.deepEqual(
    parseMmrotateJson(text, { source: "r.json", angleConvention: "le90" }).warnings,
    [],
  );
  // degrees read as radians
  const degrees = JSON.stringify(
    JSON.parse(text).map((r: { bbox: number[] }) => ({
      ...r,
      bbox: [...r.bbox.slice(0, 4), r.bbox[4]! * 57],
    })),
  );
  const asRadians = parseMmrotateJson(degrees, { source: "r.json", angleConvention: "radians" });
  assert.match(asRadians.warnings[0] ?? "", /angles up to 85\.5 are read as radians/);
  // a handful of boxes says nothing either way
  const few = JSON.stringify(JSON.parse(text).slice(0, 7));
  assert.deepEqual(
    parseMmrotateJson(few, { source: "r.json", angleConvention: "degrees" }).warnings,
    [],
  );
});
