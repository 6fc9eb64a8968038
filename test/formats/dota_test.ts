import assert from "node:assert/strict";
import { boxCorners } from "../../src/geometry/oriented_box.ts";
import { countByClass } from "../../src/formats/detection.ts";
import { parseDota, parseDotaTask1 } from "../../src/formats/dota.ts";
import { dataTest } from "../_data.ts";

const SAMPLES = new URL("../../../shared/data/dota-samples/", import.meta.url);

function near(actual: number, expected: number, tol = 1e-9) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} !~ ${expected}`);
}

Deno.test("parseDota() reads the header and boxes", () => {
  const text = [
    "imagesource:GoogleEarth",
    "gsd:0.255589285596",
    "10 10 30 10 30 20 10 20 ship 0",
    "40 40 50 40 50 60 40 60 harbor 1",
    "1 1 5 1 5 3 1 3 small-vehicle",
  ].join("\n");
  const parsed = parseDota(text, { source: "P0001.txt" });
  assert.equal(parsed.imageSource, "GoogleEarth");
  assert.equal(parsed.gsd, 0.255589285596);
  assert.deepEqual(parsed.issues, []);
  assert.deepEqual(parsed.detections.map((d) => [d.className, d.difficult, d.line, d.score]), [
    ["ship", false, 3, null],
    ["harbor", true, 4, null],
    ["small-vehicle", false, 5, null],
  ]);
  const ship = parsed.detections[0]!;
  near(ship.box.cx, 20);
  near(ship.box.cy, 15);
  near(ship.box.width * ship.box.height, 200);
  assert.equal(ship.source, "P0001.txt");
  assert.deepEqual(ship.corners, [{ x: 10, y: 10 }, { x: 30, y: 10 }, { x: 30, y: 20 }, {
    x: 10,
    y: 20,
  }]);
});

Deno.test("parseDota() reports malformed lines and goes on", () => {
  const text = [
    "# a comment",
    "",
    "10 10 30 10 30 20 10 20 ship 0", // 3: ok
    "10 10 30 10 30 20 10 ship 0", // 4: 9 fields but class is "ship"? no: x4 ok, y4 = "ship"
    "10 10 30 10 30 20 10 20", // 5: 8 fields
    "10 10 30 abc 30 20 10 20 ship 0", // 6: non-numeric
    "10 10 10 10 10 10 10 10 ship 0", // 7: degenerate (repeated)
    "0 0 10 10 20 20 30 30 ship 0", // 8: degenerate (collinear)
    "10 10 30 10 30 20 10 20 ship 2", // 9: bad difficult
    "10 10 30 10 30 20 10 20 ship 0 extra", // 10: 11 fields
    "gsd:abc", // 11: bad gsd
    "  -5 -5 5 -5 5 5 -5 5 plane 0  ", // 12: ok, off the image
    "10 10 30 10 30 20 10 NaN ship 0", // 13: NaN
  ].join("\r\n");
  const { detections, issues } = parseDota(text, { source: "bad.txt" });
  assert.deepEqual(detections.map((d) => d.line), [3, 12]);
  assert.deepEqual(issues.map((i) => i.line), [4, 5, 6, 7, 8, 9, 10, 11, 13]);
  for (const issue of issues) {
    assert.equal(issue.source, "bad.txt");
    assert.match(issue.message, /^Cannot read (DOTA box|gsd header): /);
  }
  const byLine = new Map(issues.map((i) => [i.line, i.message]));
  assert.match(byLine.get(4)!, /y4 is not a number: "ship"/);
  assert.match(byLine.get(5)!, /expected 9 or 10 fields .* got 8/);
  assert.match(byLine.get(6)!, /y2 is not a number: "abc"/);
  assert.match(byLine.get(7)!, /degenerate box/);
  assert.match(byLine.get(8)!, /degenerate box/);
  assert.match(byLine.get(9)!, /difficult must be 0 or 1, got "2"/);
  assert.match(byLine.get(10)!, /got 11/);
  assert.match(byLine.get(11)!, /gsd header: "abc"/);
  assert.match(byLine.get(13)!, /y4 is not a number: "NaN"/);
});

Deno.test("parseDota() reads a score in the last field when asked", () => {
  const text = "10 10 30 10 30 20 10 20 ship 0.87\n10 10 30 10 30 20 10 20 ship x\n";
  const asDifficult = parseDota(text, { source: "s.txt" });
  assert.equal(asDifficult.detections.length, 0);
  assert.match(asDifficult.issues[0]!.message, /difficult must be 0 or 1, got "0.87"$/);
  const asScore = parseDota(text, { source: "s.txt", lastField: "score" });
  assert.deepEqual(asScore.detections.map((d) => d.score), [0.87]);
  assert.deepEqual(asScore.issues.map((i) => i.line), [2]);
});

Deno.test("parseDota() with lastField auto reads scores only in a file that holds them", () => {
  // a detector's output in labelTxt layout: scores, some of them exactly 0 or 1
  const scored = "10 10 30 10 30 20 10 20 ship 1\n10 10 30 10 30 20 10 20 car 0.42\n" +
    "10 10 30 10 30 20 10 20 car 0\n";
  const read = parseDota(scored, { source: "s.txt", lastField: "auto" });
  assert.deepEqual(read.detections.map((d) => [d.score, d.difficult]), [
    [1, false],
    [0.42, false],
    [0, false],
  ]);
  // DOTA labels: difficult flags
  const labels = "10 10 30 10 30 20 10 20 ship 1\n10 10 30 10 30 20 10 20 car 0\n";
  const flags = parseDota(labels, { source: "l.txt", lastField: "auto" });
  assert.deepEqual(flags.detections.map((d) => [d.score, d.difficult]), [[null, true], [
    null,
    false,
  ]]);
  // neither: the line is skipped, the message says what may stand there
  const bad = parseDota("10 10 30 10 30 20 10 20 ship 2\n", { source: "b.txt", lastField: "auto" });
  assert.match(bad.issues[0]!.message, /got "2" \(or a detector's score, between 0 and 1\)/);
});

Deno.test("parseDota() keeps gsd null and handles empty input", () => {
  assert.deepEqual(parseDota("", { source: "e.txt" }), {
    detections: [],
    issues: [],
    imageSource: null,
    gsd: null,
  });
  const parsed = parseDota("\uFEFFimagesource:GF2\ngsd:null\n", { source: "e.txt" });
  assert.equal(parsed.imageSource, "GF2");
  assert.equal(parsed.gsd, null);
  assert.deepEqual(parsed.issues, []);
});

dataTest({
  name: "parseDota() reads the DOTA samples in place",
  needs: [SAMPLES.pathname],
  fn: async () => {
    const expected: Record<
      string,
      { lines: number; classes: Record<string, number>; gsd: number }
    > = {
      P0706: { lines: 536, classes: { ship: 531, harbor: 5 }, gsd: 0.255589285596 },
      P1888: {
        lines: 64,
        classes: { "small-vehicle": 14, "large-vehicle": 50 },
        gsd: 0.266170468393,
      },
    };
    for (const [stem, want] of Object.entries(expected)) {
      const url = new URL(`labelTxt/${stem}.txt`, SAMPLES);
      const text = await Deno.readTextFile(url);
      const parsed = parseDota(text, { source: url.pathname });
      assert.equal(parsed.imageSource, "GoogleEarth");
      assert.equal(parsed.gsd, want.gsd);
      // Every box line is either a detection or an issue.
      assert.equal(parsed.detections.length + parsed.issues.length, want.lines, stem);
      assert.deepEqual(parsed.issues, [], stem);
      assert.deepEqual(Object.fromEntries(countByClass(parsed.detections)), want.classes);
      for (const d of parsed.detections) {
        const { box } = d;
        for (const v of [box.cx, box.cy, box.width, box.height, box.angle]) {
          assert.ok(Number.isFinite(v));
        }
        assert.ok(box.width > 0 && box.height > 0, `${stem}:${d.line}`);
        assert.ok(box.angle >= -Math.PI / 2 && box.angle < Math.PI / 2);
        // The min-area box contains the annotated corners (DOTA quads are near-rectangles).
        const corners = boxCorners(box);
        for (const p of d.corners!) {
          for (let i = 0; i < 4; i++) {
            const a = corners[i]!;
            const b = corners[(i + 1) % 4]!;
            const cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
            const len = Math.hypot(b.x - a.x, b.y - a.y);
            const side = Math.sign(
              (b.x - a.x) * (box.cy - a.y) - (b.y - a.y) * (box.cx - a.x),
            );
            assert.ok(side * cross / len >= -1e-6, `${stem}:${d.line} corner outside its box`);
          }
        }
      }
    }
  },
});

Deno.test("parseDotaTask1() groups detections by image", () => {
  const text = [
    "P0706 0.93 10 10 30 10 30 20 10 20",
    "P1888 0.51 5 5 9 5 9 7 5 7",
    "",
    "P0706 0.40 40 40 60 40 60 50 40 50",
    "P0706 high 40 40 60 40 60 50 40 50", // 5: bad score
    "P0706 0.3 40 40 60 40 60 50", // 6: field count
    "P1888 0.3 1 1 1 1 1 1 1 1", // 7: degenerate
  ].join("\n");
  const { byImage, issues } = parseDotaTask1(text, { source: "out/Task1_ship.txt" });
  assert.deepEqual([...byImage.keys()], ["P0706", "P1888"]);
  assert.deepEqual(byImage.get("P0706")!.map((d) => [d.line, d.score, d.className]), [
    [1, 0.93, "ship"],
    [4, 0.4, "ship"],
  ]);
  assert.deepEqual(issues.map((i) => [i.source, i.line]), [
    ["out/Task1_ship.txt", 5],
    ["out/Task1_ship.txt", 6],
    ["out/Task1_ship.txt", 7],
  ]);
  assert.match(issues[0]!.message, /^Cannot read DOTA Task1 box: score is not a number: "high"/);
  assert.match(issues[1]!.message, /expected 10 fields/);
  assert.match(issues[2]!.message, /degenerate box/);
});

Deno.test("parseDotaTask1() takes the class from options or needs a Task1_ name", () => {
  const text = "P1 0.5 10 10 30 10 30 20 10 20\n";
  const named = parseDotaTask1(text, { source: "C:\\r\\Task1_large-vehicle.txt" });
  assert.equal(named.byImage.get("P1")![0]!.className, "large-vehicle");
  // a folder named like a Task1 file does not lend its name to the class
  for (const source of ["results/task1_merged/Task1_ship.txt", "/d/Task1_epoch12/task1_ship.TXT"]) {
    assert.equal(parseDotaTask1(text, { source }).byImage.get("P1")![0]!.className, "ship");
  }
  assert.throws(() => parseDotaTask1(text, { source: "Task1_x/dets.txt" }), /Task1_<class>\.txt/);
  const given = parseDotaTask1(text, { source: "dets.txt", className: "plane" });
  assert.equal(given.byImage.get("P1")![0]!.className, "plane");
  assert.throws(
    () => parseDotaTask1(text, { source: "dets.txt" }),
    (e: unknown) => e instanceof TypeError && /Task1_<class>\.txt/.test(e.message),
  );
});

Deno.test("parseDotaTask1() minScore: low scores checked, not kept; their image ids listed", () => {
  const text = [
    "A 0.9 10 10 30 10 30 20 10 20",
    "A 0.2 40 40 60 40 60 50 40 50",
    "B 0.1 5 5 9 5 9 7 5 7",
    "C 0.1 1 2 3", // a bad line below the threshold is still reported
  ].join("\n");
  const { byImage, issues } = parseDotaTask1(text, { source: "Task1_ship.txt", minScore: 0.5 });
  assert.deepEqual([...byImage.keys()], ["A", "B"]);
  assert.deepEqual(byImage.get("A")!.map((d) => d.score), [0.9]);
  assert.deepEqual(byImage.get("B"), []);
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.line, 4);
  const all = parseDotaTask1(text, { source: "Task1_ship.txt" });
  assert.deepEqual(all.byImage.get("A")!.map((d) => d.score), [0.9, 0.2]);
});

// QA: DOTA corners in degrees on a georeferenced raster gave 5-px masks at pixel (15, 45)
const DEGREES = [
  "15.002572323 45.152464465 15.002606672 45.152464464 15.002610486 45.152413154 15.002576137 45.152410455 small-vehicle 0",
  "15.001774674 45.152475282 15.001736509 45.152472582 15.001721247 45.152602207 15.001755596 45.152604907 large-vehicle 0",
];

Deno.test("parseDota() skips a box smaller than a pixel with its line, and refuses a file of them", () => {
  const mixed = ["10 10 30 10 30 20 10 20 ship 0", DEGREES[0]!, "0 0 0.5 0 0.5 30 0 30 pole 0"];
  const { detections, issues } = parseDota(mixed.join("\n"), { source: "P1.txt" });
  // one side of a pixel or more (a pole half a pixel wide) is a box
  assert.deepEqual(detections.map((d) => d.line), [1, 3]);
  assert.deepEqual(issues, [{
    source: "P1.txt",
    line: 2,
    message: "Cannot read DOTA box: box smaller than a pixel: 0.000034 x 0.000054 px; are these " +
      "coordinates in degrees or normalised?",
  }]);
  assert.throws(
    () => parseDota(["imagesource:x", ...DEGREES].join("\n"), { source: "lldota.txt" }),
    (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.equal(
        e.message,
        'Cannot read DOTA boxes from "lldota.txt": all 2 box(es) are smaller than a pixel ' +
          "(line 2: 0.000034 x 0.000054 px); are the coordinates in degrees or normalised? DOTA " +
          "corners are the image's pixels: give map coordinates as GeoJSON (with its crs), " +
          "normalised ones as YOLO-OBB",
      );
      return true;
    },
  );
  // a file with no boxes at all, or only malformed lines, is no such file
  assert.equal(parseDota("10 10 30 ship\n", { source: "bad.txt" }).issues.length, 1);
});

Deno.test("parseDotaTask1() skips sub-pixel boxes by line; a file of nothing else is an error", () => {
  const line = (id: string, corners: string) => `${id} 0.9 ${corners}`;
  const degrees = DEGREES[0]!.split(" ").slice(0, 8).join(" ");
  const mixed = [line("P1", "10 10 30 10 30 20 10 20"), line("P2", degrees)].join("\n");
  const { byImage, issues } = parseDotaTask1(mixed, { source: "Task1_car.txt" });
  assert.deepEqual([...byImage.keys()], ["P1"]);
  assert.deepEqual(issues.map((i) => [i.line, i.message.split(";")[0]]), [
    [2, "Cannot read DOTA Task1 box: box smaller than a pixel: 0.000034 x 0.000054 px"],
  ]);
  assert.throws(
    () => parseDotaTask1(line("P2", degrees), { source: "Task1_car.txt" }),
    /^TypeError: Cannot read DOTA Task1 results from "Task1_car\.txt": all 1 box\(es\) are smaller than a pixel .*degrees or normalised/,
  );
  // sub-pixel boxes beside boxes scored under minScore: those were boxes, the file is read
  const low = [line("P1", "10 10 30 10 30 20 10 20").replace("0.9", "0.1"), line("P2", degrees)];
  const kept = parseDotaTask1(low.join("\n"), { source: "Task1_car.txt", minScore: 0.5 });
  assert.deepEqual(kept.byImage.get("P1"), []);
  assert.equal(kept.issues.length, 1);
});
