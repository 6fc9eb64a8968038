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
