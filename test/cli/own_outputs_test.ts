// The CLI where a run's outputs meet its inputs (QA report, I/O): --out given as the folder of
// GeoJSON detections, --out given as the --images folder with --overlay, DOTA corners in
// degrees, a single-part MultiPolygon export, and rasters of a kind sopseg does not read.
import assert from "node:assert/strict";
import { runTask } from "./_run_cli.ts";
import { fixture } from "../raster/_fixtures.ts";
import { carBoxGeoJson, withTempDir } from "../_files.ts";

const CAR = "100 100 140 100 140 120 100 120 car 0\n";
/** A GeoJSON detection file (pixels) of the CAR box. */
const CAR_GEOJSON = carBoxGeoJson(100, 100, 140, 120);

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("segment: --out given as the GeoJSON detections' folder stops (exit 2) before writing; a MultiPolygon export reads", async () => {
  await withTempDir("sopseg-cli-own-", async (dir) => {
    await Deno.mkdir(`${dir}/same`);
    await Deno.writeTextFile(`${dir}/same/rgb8.geojson`, CAR_GEOJSON);
    const image = await fixture("rgb8.png");
    const args = ["--images", image, "--detections", `${dir}/same`, "--backend", "wasm"];
    const r = await runTask("segment", [...args, "--out", `${dir}/same`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `Cannot write to --out ${dir}/same: the run would write ${dir}/same/rgb8\\.geojson, ` +
          `which is an input of the run; give another --out`,
      ),
    );
    assert.equal(await Deno.readTextFile(`${dir}/same/rgb8.geojson`), CAR_GEOJSON);
    assert.deepEqual(await names(`${dir}/same`), ["rgb8.geojson"]); // no lock, record or coco.json

    // the same boxes as ogr2ogr -nlt MULTIPOLYGON writes them (as shapefile and GPKG exports do)
    await Deno.mkdir(`${dir}/multi`);
    const ogr = await new Deno.Command("ogr2ogr", {
      args: [
        "-f",
        "GeoJSON",
        "-nlt",
        "MULTIPOLYGON",
        `${dir}/multi/rgb8.geojson`,
        `${dir}/same/rgb8.geojson`,
      ],
    }).output();
    assert.ok(ogr.success, new TextDecoder().decode(ogr.stderr));
    const written = JSON.parse(await Deno.readTextFile(`${dir}/multi/rgb8.geojson`));
    assert.equal(written.features[0].geometry.type, "MultiPolygon");
    const m = await runTask("segment", [
      "--images",
      image,
      "--detections",
      `${dir}/multi/rgb8.geojson`,
      "--backend",
      "wasm",
      "--out",
      `${dir}/out`,
    ]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stderr, /done: 1 masks on 1 image\(s\)/);
    const fc = JSON.parse(await Deno.readTextFile(`${dir}/out/rgb8.geojson`));
    assert.equal(fc.features[0].properties.class, "car");
    assert.notEqual(fc.features[0].geometry, null);
  });
});

Deno.test("segment: --out = --images with --overlay, run twice: the overlay is not an image; a .vrt is named", async () => {
  await withTempDir("sopseg-cli-own-", async (dir) => {
    await Deno.mkdir(`${dir}/imgs`);
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/imgs/rgb8.png`);
    await Deno.writeTextFile(`${dir}/rgb8.txt`, CAR);
    const args = [
      "--images",
      `${dir}/imgs`,
      "--detections",
      `${dir}/rgb8.txt`,
      "--out",
      `${dir}/imgs`,
      "--overlay",
      "--backend",
      "wasm",
    ];
    const first = await runTask("segment", args);
    assert.equal(first.code, 0, first.stderr);
    await Deno.stat(`${dir}/imgs/rgb8.overlay.png`);
    // a VRT beside the images: GDAL reads it, sopseg does not, and says so
    const vrt = await new Deno.Command("gdal_translate", {
      args: ["-q", "-of", "VRT", `${dir}/imgs/rgb8.png`, `${dir}/imgs/mosaic.vrt`],
    }).output();
    assert.ok(vrt.success, new TextDecoder().decode(vrt.stderr));
    const second = await runTask("segment", args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(
        `warning: 1 file\\(s\\) in ${dir}/imgs left out as overlays of an earlier run ` +
          `\\(<stem>\\.overlay\\.png beside its image: rgb8\\.overlay\\.png\\)`,
      ),
    );
    assert.match(
      second.stderr,
      /warning: 1 raster file\(s\) in .*imgs not read \(mosaic\.vrt\): sopseg reads GeoTIFF, PNG and JPEG/,
    );
    assert.match(second.stderr, /done: 1 masks on 1 image\(s\)/);
    const coco = JSON.parse(await Deno.readTextFile(`${dir}/imgs/coco.json`));
    assert.deepEqual(coco.images.map((i: { file_name: string }) => i.file_name), ["rgb8.png"]);
  });
});

Deno.test("segment: DOTA corners in degrees on a georeferenced raster fail the image, naming degrees", async () => {
  await withTempDir("sopseg-cli-own-", async (dir) => {
    // rgb8_tiled_lzw.tif: EPSG:4326, origin 14.5 E 46.25 N, 0.0001 degree pixels; the CAR box
    const degrees = "14.51 46.24 14.514 46.24 14.514 46.238 14.51 46.238 car 0\n";
    await Deno.writeTextFile(`${dir}/deg.txt`, degrees);
    const image = await fixture("rgb8_tiled_lzw.tif");
    const common = ["--images", image, "--backend", "wasm"];
    const r = await runTask("segment", [
      ...common,
      "--detections",
      `${dir}/deg.txt`,
      "--out",
      `${dir}/o1`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /error: .*rgb8_tiled_lzw\.tif: Cannot read DOTA boxes from ".*deg\.txt": all 1 box\(es\) are smaller than a pixel \(line 1: 0\.004 x 0\.002 px\); are the coordinates in degrees or normalised\?/,
    );
    // beside boxes in pixels: skipped with its file and line, the others segmented
    await Deno.writeTextFile(`${dir}/mixed.txt`, CAR + degrees);
    const mixed = await runTask("segment", [
      ...common,
      "--detections",
      `${dir}/mixed.txt`,
      "--out",
      `${dir}/o2`,
    ]);
    assert.equal(mixed.code, 1, mixed.stderr);
    assert.match(
      mixed.stderr,
      /mixed\.txt:2: Cannot read DOTA box: box smaller than a pixel: 0\.004 x 0\.002 px; are these coordinates in degrees or normalised\? \(skipped\)/,
    );
    assert.match(mixed.stderr, /done: 1 masks on 1 image\(s\).*1 malformed detection\(s\) skipped/);
  });
});
