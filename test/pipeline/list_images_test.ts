// The images of an --images folder, on real folders: an earlier run's overlays are not taken for
// images, and raster files sopseg cannot read are named instead of passed over.
import assert from "node:assert/strict";
import { listImages } from "../../src/pipeline/list_images.ts";

async function folderOf(names: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sopseg_images_" });
  for (const name of names) await Deno.writeTextFile(`${dir}/${name}`, "");
  return dir;
}

Deno.test("listImages() leaves out <stem>.overlay.png beside its image, with one note", async () => {
  const dir = await folderOf([
    "utm.tif",
    "utm.overlay.png",
    "utm.overlay.pgw",
    "utm.overlay.png.aux.xml",
    "utm.geojson",
    "b.JPG",
    "b.overlay.png",
    "b.overlay.overlay.png", // an overlay's overlay, from a run that took b.overlay.png for an image
    "lone.overlay.png", // no image lone.*: an image of the user's
  ]);
  try {
    const notes: string[] = [];
    const images = await listImages(dir, { onWarning: (m) => notes.push(m) });
    assert.deepEqual(images, [`${dir}/b.JPG`, `${dir}/lone.overlay.png`, `${dir}/utm.tif`]);
    assert.deepEqual(notes, [
      `3 file(s) in ${dir} left out as overlays of an earlier run (<stem>.overlay.png beside ` +
      `its image: b.overlay.overlay.png, b.overlay.png, utm.overlay.png); rename them to ` +
      `segment them`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listImages() names the raster files it does not read (.vrt, .jp2), once", async () => {
  const dir = await folderOf([
    "a.tif",
    "mosaic.vrt",
    "b.VRT",
    "c.jp2",
    "notes.txt",
    "a.tif.aux.xml",
  ]);
  try {
    const notes: string[] = [];
    assert.deepEqual(await listImages(dir, { onWarning: (m) => notes.push(m) }), [`${dir}/a.tif`]);
    assert.deepEqual(notes, [
      `3 raster file(s) in ${dir} not read (b.VRT, c.jp2, mosaic.vrt): sopseg reads GeoTIFF, ` +
      `PNG and JPEG; convert them first (gdal_translate -of GTiff IN OUT.tif)`,
    ]);
    // a folder of images only: nothing to say
    const plain = await folderOf(["a.tif", "b.png"]);
    const none: string[] = [];
    assert.equal((await listImages(plain, { onWarning: (m) => none.push(m) })).length, 2);
    assert.deepEqual(none, []);
    await Deno.remove(plain, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
