import assert from "node:assert/strict";
import { fileStem, matchDetectionFiles } from "../../src/formats/detection_files.ts";
import { dataTest } from "../_data.ts";

Deno.test("fileStem() strips the directory and the last extension", () => {
  assert.equal(fileStem("P0706.png"), "P0706");
  assert.equal(fileStem("/data/images/P0706.tif"), "P0706");
  assert.equal(fileStem("labels\\P0706.txt"), "P0706");
  assert.equal(fileStem("scene.v2.geojson"), "scene.v2");
  assert.equal(fileStem("noext"), "noext");
  assert.equal(fileStem("dir.d/noext"), "noext");
});

Deno.test("matchDetectionFiles() pairs by stem and reports the rest", () => {
  const match = matchDetectionFiles(
    ["img/P1888.png", "img/P0706.png", "img/P0001.jpg"],
    ["lab/P0706.txt", "lab/P1888.txt", "lab/P9999.txt", "lab/P0002.txt"],
  );
  assert.deepEqual(match.pairs, [
    { stem: "P0706", image: "img/P0706.png", detections: "lab/P0706.txt" },
    { stem: "P1888", image: "img/P1888.png", detections: "lab/P1888.txt" },
  ]);
  assert.deepEqual(match.imagesWithoutDetections, ["img/P0001.jpg"]);
  assert.deepEqual(match.detectionsWithoutImages, ["lab/P0002.txt", "lab/P9999.txt"]);
  assert.deepEqual(match.ambiguous, []);
});

Deno.test("matchDetectionFiles() leaves shared stems unpaired and says so", () => {
  const match = matchDetectionFiles(
    ["a/P1.png", "a/P1.tif", "a/P2.png", "a/P2.png"],
    ["b/P1.txt", "b/P2.txt", "b/P2.geojson"],
  );
  assert.deepEqual(match.pairs, []);
  assert.deepEqual(match.ambiguous, [
    { stem: "P1", kind: "image", paths: ["a/P1.png", "a/P1.tif"] },
    { stem: "P2", kind: "detections", paths: ["b/P2.geojson", "b/P2.txt"] },
  ]);
  assert.deepEqual(match.imagesWithoutDetections, []);
  assert.deepEqual(match.detectionsWithoutImages, []);
});

Deno.test("matchDetectionFiles() can ignore letter case", () => {
  const images = ["p0706.PNG"], detections = ["P0706.txt"];
  assert.equal(matchDetectionFiles(images, detections).pairs.length, 0);
  const match = matchDetectionFiles(images, detections, { ignoreCase: true });
  assert.deepEqual(match.pairs, [{ stem: "p0706", image: "p0706.PNG", detections: "P0706.txt" }]);
});

const SAMPLES = new URL("../../../shared/data/dota-samples/", import.meta.url).pathname;

dataTest({
  name: "matchDetectionFiles() pairs the DOTA samples",
  needs: [SAMPLES],
  fn: () => {
    // as segment lists them: by extension (GDAL and QGIS write <image>.aux.xml beside images)
    const list = (dir: string, ext: RegExp) =>
      [...Deno.readDirSync(SAMPLES + dir)].filter((e) => ext.test(e.name)).map((e) =>
        `${dir}/${e.name}`
      );
    const match = matchDetectionFiles(
      list("images", /\.(png|tiff?|jpe?g)$/i),
      list("labelTxt", /\.txt$/i),
    );
    assert.deepEqual(match.pairs.map((p) => p.stem), ["P0706", "P1888"]);
    assert.deepEqual(match.imagesWithoutDetections, []);
    assert.deepEqual(match.detectionsWithoutImages, []);
  },
});
