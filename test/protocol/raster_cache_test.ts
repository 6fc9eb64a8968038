/**
 * RasterCache: the server's opened images. An entry is reused while nothing
 * that decides what opening the image gives has changed: the file, and the
 * files beside it that georeference it (a world file added after a first
 * request must be read).
 */
import assert from "node:assert/strict";
import { RasterCache } from "../../src/protocol/raster_cache.ts";
import { openRaster } from "../../src/raster/open_raster.ts";
import { fixture } from "../raster/_fixtures.ts";

Deno.test("RasterCache reopens an image when its world file or .aux.xml comes, changes or goes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-raster-cache-" });
  const cache = new RasterCache();
  try {
    const png = `${dir}/a.png`;
    await Deno.copyFile(await fixture("rgb8.png"), png);
    const open = () => cache.open(png, undefined, (p) => openRaster(p));
    const first = await open();
    assert.equal(first.georef, null);
    assert.equal(await open(), first, "unchanged: reused");

    await Deno.writeTextFile(`${dir}/a.pgw`, "0.5\n0\n0\n-0.5\n500000.25\n4000099.75\n");
    const withWorld = await open();
    assert.notEqual(withWorld, first);
    assert.deepEqual(withWorld.georef?.geoTransform, [500000, 0.5, 0, 4000100, 0, -0.5]);
    assert.equal(withWorld.georef?.epsg, null);

    await Deno.writeTextFile(
      `${dir}/a.png.aux.xml`,
      '<PAMDataset><SRS>PROJCS["UTM 33N",AUTHORITY["EPSG","32633"]]</SRS></PAMDataset>',
    );
    assert.equal((await open()).georef?.epsg, 32633);

    await Deno.remove(`${dir}/a.pgw`);
    assert.equal((await open()).georef, null, "the world file gone: no georeference");
  } finally {
    await cache.close();
    await Deno.remove(dir, { recursive: true });
  }
});
