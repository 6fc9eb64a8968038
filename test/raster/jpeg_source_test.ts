/**
 * JPEG specifics: the frame-header size read before decoding (the megapixel
 * limit refuses before any pixel is decoded), and the worker that decodes large
 * images (same samples as the main thread, its errors reported as the file's).
 */
import assert from "node:assert/strict";
import { openJpeg } from "../../src/raster/jpeg_source.ts";
import { jpegFrame, jpegSize } from "../../src/raster/jpeg_decode.ts";
import type { RasterSource } from "../../src/raster/source.ts";
import { fixture, gdal } from "./_fixtures.ts";

const full = (src: RasterSource) => src.readWindow([0, 0, src.width, src.height]);

async function windows(path: string, options: Parameters<typeof openJpeg>[1]) {
  const src = await openJpeg(path, options);
  try {
    return { size: [src.width, src.height], data: (await full(src)).data };
  } finally {
    await src.close();
  }
}

Deno.test("jpegSize() reads the frame header of baseline, progressive and EXIF JPEGs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-jpeg-" });
  try {
    const rgb = await fixture("rgb8.jpg");
    assert.deepEqual(jpegSize(await Deno.readFile(rgb)), { width: 600, height: 400 });
    // progressive, and with EXIF/APP segments before the frame header (GDAL writes them)
    const progressive = `${dir}/p.jpg`;
    await gdal("gdal_translate", ["-q", "-of", "JPEG", "-co", "PROGRESSIVE=ON", rgb, progressive]);
    assert.deepEqual(jpegSize(await Deno.readFile(progressive)), { width: 600, height: 400 });
    const exif = `${dir}/e.jpg`;
    await gdal("gdal_translate", [
      "-q",
      "-of",
      "JPEG",
      "-co",
      "EXIF_THUMBNAIL=YES",
      "-co",
      "THUMBNAIL_WIDTH=40",
      "-srcwin",
      "0",
      "0",
      "317",
      "211",
      rgb,
      exif,
    ]);
    assert.deepEqual(jpegSize(await Deno.readFile(exif)), { width: 317, height: 211 });
    // not a JPEG, or cut before the frame header
    assert.equal(jpegSize(new TextEncoder().encode("GIF89a")), null);
    assert.equal(jpegSize((await Deno.readFile(rgb)).subarray(0, 4)), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openJpeg() decodes in a worker exactly as in the main thread", async () => {
  const path = await fixture("rgb8.jpg");
  for (const bands of [undefined, [3, 1, 2], [2]]) {
    const here = await windows(path, { bands });
    const worker = await windows(path, { bands, workerMegapixels: 0 });
    assert.deepEqual(worker.size, [600, 400]);
    assert.deepEqual(worker.size, here.size);
    assert.ok(worker.data.some((v) => v !== worker.data[0]), "not a flat image");
    assert.deepEqual(worker.data, here.data, `bands ${bands}`);
  }
});

Deno.test("openJpeg() refuses from the header and reports the worker's errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-jpeg-" });
  try {
    // a header declaring 60000 x 60000: refused before decoding, size named
    const huge = `${dir}/huge.jpg`;
    const sof = [0xff, 0xc0, 0, 17, 8, 0xea, 0x60, 0xea, 0x60, 3];
    const comps = [1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0];
    await Deno.writeFile(huge, Uint8Array.of(0xff, 0xd8, ...sof, ...comps, 0xff, 0xd9));
    await assert.rejects(
      openJpeg(huge),
      /Cannot open .*huge\.jpg: not a readable JPEG \(60000x60000 exceeds 1000 megapixels\)/,
    );
    // a frame header and no image data: the decoder's error, from the worker as from here
    const empty = `${dir}/empty.jpg`;
    const sof16 = [0xff, 0xc0, 0, 17, 8, 0, 16, 0, 16, 3];
    await Deno.writeFile(empty, Uint8Array.of(0xff, 0xd8, ...sof16, ...comps, 0xff, 0xd9));
    for (const workerMegapixels of [0, undefined]) {
      await assert.rejects(
        openJpeg(empty, { workerMegapixels }),
        /Cannot open .*empty\.jpg: not a readable JPEG \(.+\)/,
      );
    }
    // a bad band selection says band, not JPEG
    await assert.rejects(openJpeg(empty, { bands: [5] }), /Cannot select band 5 of .*empty\.jpg/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openJpeg() refuses CMYK and 12-bit JPEGs before decoding, saying how to convert them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rgb = await fixture("rgb8.jpg");
    const cmyk = `${dir}/cmyk.jpg`, deep = `${dir}/j12.jpg`;
    // GDAL writes a 4-band JPEG as CMYK (Adobe marker), and 12-bit samples from UInt16
    await gdal("gdal_translate", ["-q", "-b", "1", "-b", "2", "-b", "3", "-b", "1", rgb, cmyk]);
    await gdal("gdal_translate", [
      "-q",
      "-ot",
      "UInt16",
      "-of",
      "JPEG",
      "-co",
      "NBITS=12",
      rgb,
      deep,
    ]);
    assert.equal(jpegFrame(await Deno.readFile(cmyk))?.components, 4);
    assert.equal(jpegFrame(await Deno.readFile(deep))?.precision, 12);
    await assert.rejects(
      openJpeg(cmyk),
      /cmyk\.jpg: a CMYK \(4-component\) JPEG, .*gdal_translate/,
    );
    await assert.rejects(openJpeg(deep), /j12\.jpg: a 12-bit JPEG, .*gdal_translate -ot Byte/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openJpeg() refuses a JPEG cut short (libjpeg would decode its missing rows as grey)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-jpeg-" });
  try {
    const rgb = await fixture("rgb8.jpg");
    const progressive = `${dir}/p.jpg`, exif = `${dir}/e.jpg`;
    await gdal("gdal_translate", ["-q", "-of", "JPEG", "-co", "PROGRESSIVE=ON", rgb, progressive]);
    // a thumbnail in EXIF holds an end-of-image marker of its own, before the main image data
    await gdal("gdal_translate", ["-q", "-of", "JPEG", "-co", "EXIF_THUMBNAIL=YES", rgb, exif]);
    for (const path of [rgb, progressive, exif]) {
      const whole = await openJpeg(path);
      await whole.close();
      const bytes = await Deno.readFile(path);
      const cut = `${dir}/cut.jpg`;
      await Deno.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await assert.rejects(
        openJpeg(cut),
        /Cannot open .*cut\.jpg: not a readable JPEG \(cut short: no end-of-image marker after its image data/,
        path,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
