/**
 * readResults' sniffing of `.json` files in auto mode: an array (after a
 * byte-order mark and any white space) is mmrotate's results; anything else,
 * a GeoJSON of one image's detections above all, is left to the per-image
 * readers (null), and an unreadable file too.
 */
import assert from "node:assert/strict";
import { readResults } from "../../src/pipeline/results_input.ts";

Deno.test("readResults tells mmrotate JSON from a GeoJSON .json by its first character", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-results-input-" });
  try {
    const records = [{ image_id: "P0706", bbox: [20, 15, 20, 10, 0], score: 0.9, category_id: 0 }];
    // a BOM and more white space than one sniffed chunk before the array
    const spaced = `${dir}/results.bbox.json`;
    await Deno.writeTextFile(spaced, "\uFEFF" + "\n".repeat(10_000) + JSON.stringify(records));
    const read = await readResults(spaced, { angleConvention: "le90", classNames: ["ship"] });
    assert.equal(read?.format, "mmrotate-json");
    assert.deepEqual([...read!.byImage.keys()], ["P0706"]);
    assert.equal(read!.byImage.get("P0706")![0]!.className, "ship");

    const geojson = `${dir}/P0706.json`;
    await Deno.writeTextFile(
      geojson,
      JSON.stringify({ type: "FeatureCollection", features: [] }) + " ".repeat(10_000),
    );
    assert.equal(await readResults(geojson), null, "a GeoJSON is a per-image file");
    await assert.rejects(readResults(`${dir}/none.json`), /none\.json: no such file/);
    await Deno.writeTextFile(`${dir}/empty.json`, "");
    assert.equal(await readResults(`${dir}/empty.json`), null, "an empty file is not results");
    // asked for, a GeoJSON is refused by the mmrotate reader, naming what it is not
    await assert.rejects(readResults(geojson, { format: "mmrotate-json" }), /array/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readResults reports 200,000 malformed Task1 lines as issues, not a stack overflow", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-results-input-" });
  try {
    // a detector's results written with one column too many, and one good line
    const bad = "P1 0.9 10 10 30 10 30 20 10 20 extra\n".repeat(200_000);
    await Deno.writeTextFile(`${dir}/Task1_ship.txt`, bad + "P1 0.8 10 10 30 10 30 20 10 20\n");
    await Deno.writeTextFile(`${dir}/Task1_plane.txt`, "P1 0.7 50 50 70 50 70 60 50 60\n");
    const read = await readResults(dir);
    assert.equal(read?.issues.length, 200_000);
    assert.equal(read!.issues[199_999]!.line, 200_000);
    assert.deepEqual(read!.byImage.get("P1")!.map((d) => d.className), ["plane", "ship"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
