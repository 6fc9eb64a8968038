import assert from "node:assert/strict";
import { georefFromGeoTiffTags, inlineGeoKeys } from "../../src/raster/geotiff_georef.ts";
import { parseWorldFile, readWorldFile } from "../../src/raster/world_file.ts";

const keys = (...kv: number[]) => {
  const n = kv.length / 2;
  const dir = [1, 1, 0, n];
  for (let i = 0; i < n; i++) dir.push(kv[2 * i]!, 0, 1, kv[2 * i + 1]!);
  return dir;
};

Deno.test("georefFromGeoTiffTags() builds the GDAL geotransform from scale and tie point", () => {
  const g = georefFromGeoTiffTags({
    pixelScale: [0.5, 0.25, 0],
    tiepoint: [10, 20, 0, 1000, 2000, 0], // pixel (10, 20) sits at (1000, 2000)
    geoKeyDirectory: keys(1024, 1, 1025, 1, 3072, 32633),
  });
  assert.deepEqual(g, { geoTransform: [995, 0.5, 0, 2005, 0, -0.25], epsg: 32633, wkt: null });
});

Deno.test("georefFromGeoTiffTags() shifts PixelIsPoint by half a pixel, also for ModelTransformation", () => {
  const point = georefFromGeoTiffTags({
    pixelScale: [2, 2, 0],
    tiepoint: [0, 0, 0, 100, 200, 0],
    geoKeyDirectory: keys(1025, 2, 2048, 4326),
  });
  assert.deepEqual(point, { geoTransform: [99, 2, 0, 201, 0, -2], epsg: 4326, wkt: null });
  const m = [0.8, 0.3, 0, 500000, 0.2, -0.9, 0, 5200000, 0, 0, 0, 0, 0, 0, 0, 1];
  assert.deepEqual(georefFromGeoTiffTags({ transformation: m })!.geoTransform, [
    500000,
    0.8,
    0.3,
    5200000,
    0.2,
    -0.9,
  ]);
  const shifted = georefFromGeoTiffTags({ transformation: m, geoKeyDirectory: keys(1025, 2) })!;
  const want = [500000 - 0.55, 0.8, 0.3, 5200000 - 0.1 + 0.45, 0.2, -0.9];
  shifted.geoTransform.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `gt[${i}] ${v}`));
});

Deno.test("georefFromGeoTiffTags() returns null without affine tags and no EPSG for user-defined CRS", () => {
  assert.equal(georefFromGeoTiffTags({}), null);
  // ground control points only (several tie points, no scale)
  assert.equal(georefFromGeoTiffTags({ tiepoint: [0, 0, 0, 1, 2, 0, 10, 10, 0, 3, 4, 0] }), null);
  const g = georefFromGeoTiffTags({
    pixelScale: [1, 1, 0],
    tiepoint: [0, 0, 0, 0, 0, 0],
    geoKeyDirectory: keys(3072, 32767, 2048, 32767),
  });
  assert.equal(g!.epsg, null);
  assert.deepEqual([...inlineGeoKeys(keys(1, 2, 3, 4))], [[1, 2], [3, 4]]);
});

Deno.test("parseWorldFile() moves the pixel-centre origin to the corner", async () => {
  assert.deepEqual(parseWorldFile("0.5\n0.1\n0.2\n-0.5\n100\n200\n", "a.jgw"), [
    100 - 0.25 - 0.1,
    0.5,
    0.2,
    200 - 0.05 + 0.25,
    0.1,
    -0.5,
  ]);
  assert.throws(
    () => parseWorldFile("1 2 3", "b.wld"),
    new SyntaxError("Cannot parse world file b.wld: expected 6 numbers (one a line), found 3"),
  );
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readWorldFile(`${dir}/x.jpg`), null);
    await Deno.writeTextFile(`${dir}/x.wld`, "1 0 0 -1 0.5 9.5");
    assert.deepEqual((await readWorldFile(`${dir}/x.jpg`))!.geoTransform, [0, 1, 0, 10, 0, -1]);
    await Deno.writeTextFile(`${dir}/x.jgw`, "2 0 0 -2 1 9");
    assert.deepEqual((await readWorldFile(`${dir}/x.jpg`))!.geoTransform, [0, 2, 0, 10, 0, -2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
