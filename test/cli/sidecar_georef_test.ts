// A TIFF georeferenced by a world file (.tfw) and the CRS in its .aux.xml, no
// GeoTIFF tags, through the permission-scoped CLI (--crs raster): the output is in map
// coordinates, the ones GDAL's transform (gdaltransform) gives for its pixels,
// and the same as for the raster with GeoTIFF tags.
import assert from "node:assert/strict";
import { runTask } from "./_run_cli.ts";
import { exists, fixture, gdal } from "../raster/_fixtures.ts";
import { boxCorners } from "../../src/geometry/oriented_box.ts";
import { gdaltransform } from "../_files.ts";

const BOXES = "40 40 80 40 80 60 40 60 car 0\n150 100 210 130 200 150 140 120 ship 0\n";

interface Feature {
  geometry: { type: string; coordinates: number[][][] | number[][][][] } | null;
  properties: { obb: number[]; obb_pixel: [number, number, number, number, number] };
}

function vertices(f: Feature): number[][] {
  const g = f.geometry!;
  const polys = (g.type === "Polygon" ? [g.coordinates] : g.coordinates) as number[][][][];
  return polys.flat(2);
}

Deno.test("segment on a TIFF with a .tfw + .aux.xml CRS writes map coordinates that GDAL gives", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg_sidecar_" });
  try {
    await Deno.mkdir(`${dir}/images`);
    await Deno.mkdir(`${dir}/labels`);
    const tags = `${dir}/images/tags.tif`, tfw = `${dir}/images/tfw.tif`;
    await gdal("gdal_translate", [
      "-q",
      ...["-a_srs", "EPSG:32633", "-a_ullr", "500000.3", "4000100.7", "500300.3", "4000000.7"],
      await fixture("rgb8_striped_deflate.tif"),
      tags,
    ]);
    await gdal("gdal_translate", ["-q", "-co", "PROFILE=BASELINE", "-co", "TFW=YES", tags, tfw]);
    // GDAL also writes the geotransform into the .aux.xml; keep only its CRS there, so that
    // the world file is what georeferences the image
    const aux = `${tfw}.aux.xml`;
    await Deno.writeTextFile(
      aux,
      (await Deno.readTextFile(aux)).replace(/\s*<GeoTransform>[^<]*<\/GeoTransform>/, ""),
    );
    assert.ok(await exists(`${dir}/images/tfw.tfw`));
    const info = JSON.parse(new TextDecoder().decode(await gdal("gdalinfo", ["-json", tfw])));
    assert.ok(info.files.some((f: string) => f.endsWith("tfw.tfw")), "gdalinfo reads the .tfw");
    for (const name of ["tags", "tfw"]) {
      await Deno.writeTextFile(`${dir}/labels/${name}.txt`, BOXES);
    }

    const out = `${dir}/out`;
    const r = await runTask("segment", [
      ...["--images", `${dir}/images`, "--detections", `${dir}/labels`, "--out", out],
      ...["--crs", "raster", "--backend", "wasm", "--quiet"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(`${out}/tfw.geojson`);
    assert.match(text, /"sopseg:coordinates":\s*"map"/);
    const fc = JSON.parse(text);
    assert.equal(fc.crs.properties.name, "urn:ogc:def:crs:EPSG::32633");
    assert.equal(fc.features.length, 2);
    // the same masks at the same places as with the GeoTIFF tags
    const withTags = JSON.parse(await Deno.readTextFile(`${out}/tags.geojson`));
    assert.deepEqual(
      fc.features.map((f: Feature) => f.geometry),
      withTags.features.map((f: Feature) => f.geometry),
    );
    for (const f of fc.features as Feature[]) {
      // the box corners: GDAL's transform of their pixel coordinates
      const [cx, cy, width, height, deg] = f.properties.obb_pixel;
      const pixel = boxCorners({ cx, cy, width, height, angle: deg * Math.PI / 180 });
      const expected = await gdaltransform([tfw], pixel.map((p) => [p.x, p.y]));
      expected.forEach(([x, y], i) => {
        const dx = Math.abs(f.properties.obb[2 * i]! - x!);
        const dy = Math.abs(f.properties.obb[2 * i + 1]! - y!);
        assert.ok(dx <= 2e-3 && dy <= 2e-3, `obb corner ${i}: ${dx}, ${dy}`);
      });
      // each mask vertex is a pixel corner: GDAL's inverse transform lands on integers, on the box
      assert.ok(f.geometry !== null, "empty mask");
      const back = await gdaltransform(["-i", tfw], vertices(f));
      for (const [x, y] of back) {
        assert.ok(
          Math.abs(x! - Math.round(x!)) < 5e-3 && Math.abs(y! - Math.round(y!)) < 5e-3,
          `vertex maps back to (${x}, ${y})`,
        );
        assert.ok(Math.hypot(x! - cx, y! - cy) < Math.hypot(width, height), `(${x}, ${y})`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
