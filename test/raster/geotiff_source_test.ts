import assert from "node:assert/strict";
import { openFileByteSource } from "../../src/raster/byte_source.ts";
import { openGeoTiff } from "../../src/raster/geotiff_source.ts";
import type { RasterSource, RgbWindow, Window } from "../../src/raster/source.ts";
import {
  countingSource,
  exists,
  fixture,
  gdalBands,
  gdalinfo,
  GENERATED,
  percentile,
  stretched,
} from "./_fixtures.ts";

const full = (src: RasterSource) => src.readWindow([0, 0, src.width, src.height]);

/** Reads the image as a mosaic of small odd-sized windows and reassembles it. */
async function mosaic(src: RasterSource, tw: number, th: number): Promise<RgbWindow> {
  const data = new Uint8Array(src.width * src.height * 3);
  const valid = new Uint8Array(src.width * src.height).fill(1);
  let anyInvalid = false;
  for (let y = 0; y < src.height; y += th) {
    for (let x = 0; x < src.width; x += tw) {
      const win: Window = [x, y, Math.min(src.width, x + tw), Math.min(src.height, y + th)];
      const w = await src.readWindow(win);
      assert.equal(w.width, win[2] - win[0]);
      assert.equal(w.height, win[3] - win[1]);
      for (let r = 0; r < w.height; r++) {
        data.set(
          w.data.subarray(r * w.width * 3, (r + 1) * w.width * 3),
          ((y + r) * src.width + x) * 3,
        );
        if (w.valid) {
          anyInvalid = true;
          valid.set(w.valid.subarray(r * w.width, (r + 1) * w.width), (y + r) * src.width + x);
        }
      }
    }
  }
  return { width: src.width, height: src.height, data, valid: anyInvalid ? valid : null };
}

function assertRgbEqualsBands(
  win: RgbWindow,
  bands: [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>],
  map: (v: number, c: number) => number = (v) => v,
) {
  const n = win.width * win.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const want = win.valid && win.valid[i] === 0 ? 0 : map(bands[c]![i]!, c);
      if (win.data[i * 3 + c] !== want) {
        assert.fail(
          `pixel ${i % win.width},${Math.floor(i / win.width)} band ${c}: got ${
            win.data[i * 3 + c]
          }, want ${want}`,
        );
      }
    }
  }
}

for (
  const name of [
    "rgb8_striped_deflate.tif",
    "rgb8_tiled_lzw.tif",
    "rgb8_planar.tif",
    "rgb8_point.tif",
  ]
) {
  Deno.test(`openGeoTiff() reads 8-bit RGB ${name} as GDAL does`, async () => {
    const src = await openGeoTiff(await fixture(name));
    try {
      assert.equal(src.width, 600);
      assert.equal(src.height, 400);
      assert.equal(src.bandCount, 3);
      assert.deepEqual(src.stretchRanges, []);
      const [r, g, b] = await gdalBands(`${GENERATED}${name}.gdal.bin`, Uint8Array, 600, 400);
      const win = await full(src);
      assert.equal(win.valid, null);
      assertRgbEqualsBands(win, [r!, g!, b!]);
      // a window crossing block boundaries
      const part = await src.readWindow([250, 3, 517, 270]);
      for (const [x, y] of [[250, 3], [516, 269], [256, 256], [255, 255], [400, 100]] as const) {
        const i = ((y - 3) * 267 + (x - 250)) * 3;
        const j = y * 600 + x;
        assert.deepEqual([...part.data.subarray(i, i + 3)], [r![j], g![j], b![j]]);
      }
    } finally {
      await src.close();
    }
  });
}

for (
  const [name, tw, th] of [
    ["rgb8_striped_deflate.tif", 97, 61],
    ["rgb8_tiled_lzw.tif", 131, 255],
    ["gray8_tiled128.tif", 129, 64],
    ["u16x4_tiled_nodata.tif", 257, 100],
    ["u16x4_striped_planar_nodata.tif", 111, 37],
    ["f32_tiled_nodata.tif", 45, 256],
    ["i16_striped.tif", 600, 13],
    ["rgb8_tiled_jpeg.tif", 300, 77],
    ["u16x4_bigendian_nodata.tif", 99, 98],
  ] as const
) {
  Deno.test(`readWindow() of many small windows equals one full read (${name})`, async () => {
    const src = await openGeoTiff(await fixture(name), { cacheBytes: 1 << 20 });
    try {
      const whole = await full(src);
      const pieces = await mosaic(src, tw, th);
      assert.deepEqual(pieces.data, whole.data);
      assert.deepEqual(pieces.valid, whole.valid);
    } finally {
      await src.close();
    }
  });
}

for (
  const name of [
    "u16x4_tiled_nodata.tif",
    "u16x4_striped_planar_nodata.tif",
    "u16x4_bigendian_nodata.tif",
  ]
) {
  Deno.test(`openGeoTiff() stretches 16-bit bands between percentiles, nodata excluded (${name})`, async () => {
    const bands = await gdalBands(`${GENERATED}${name}.gdal.bin`, Uint16Array, 700, 500);
    for (const [sel, low, high] of [[[1, 2, 3], 2, 98], [[4, 3, 2], 5, 95]] as const) {
      const src = await openGeoTiff(await fixture(name), {
        bands: [...sel],
        stretch: { low, high },
      });
      try {
        assert.equal(src.nodata, 0);
        const want = sel.map((b) => ({
          band: b,
          low: percentile(bands[b - 1]!, low, 0),
          high: percentile(bands[b - 1]!, high, 0),
        }));
        assert.deepEqual(src.stretchRanges, want);
        const win = await full(src);
        // nodata: all three selected bands equal 0
        const n = 700 * 500;
        let invalid = 0;
        for (let i = 0; i < n; i++) {
          const nd = sel.every((b) => bands[b - 1]![i] === 0);
          assert.equal(win.valid![i], nd ? 0 : 1, `pixel ${i}`);
          if (nd) invalid++;
        }
        assert.equal(invalid, 40 * 500 + 80 * 150);
        const sb = sel.map((b) => bands[b - 1]!) as [Uint16Array, Uint16Array, Uint16Array];
        assertRgbEqualsBands(win, sb, (v, c) => stretched(v, want[c]!.low, want[c]!.high));
        let zeros = 0, maxes = 0;
        for (let i = 0; i < n; i++) {
          if (win.valid![i] && win.data[i * 3] === 0) zeros++;
          if (win.valid![i] && win.data[i * 3] === 255) maxes++;
        }
        const count = n - invalid;
        // about `low` % of valid pixels clip to 0 and 100 - `high` % to 255
        assert.ok(Math.abs(zeros / count - low / 100) < 0.01, `zeros ${zeros / count}`);
        assert.ok(Math.abs(maxes / count - (100 - high) / 100) < 0.01, `maxes ${maxes / count}`);
      } finally {
        await src.close();
      }
    }
  });
}

Deno.test("openGeoTiff() samples the stretch from an internal overview", async () => {
  const ov = await gdalBands(`${GENERATED}u16x4_ovr.tif.ovr0.gdal.bin`, Uint16Array, 350, 250);
  const src = await openGeoTiff(await fixture("u16x4_ovr.tif"), { sampleMaxPixels: 100_000 });
  try {
    assert.deepEqual(
      src.stretchRanges,
      [1, 2, 3].map((b) => ({
        band: b,
        low: percentile(ov[b - 1]!, 2, 0),
        high: percentile(ov[b - 1]!, 98, 0),
      })),
    );
  } finally {
    await src.close();
  }
});

Deno.test("openGeoTiff() samples at most sampleMaxPixels when there is no overview", async () => {
  const path = await fixture("big_tiled.tif");
  // 8-bit data is not stretched; select through nodata to force nothing: use the i16 file instead
  const bytes = countingSource(await openFileByteSource(path));
  const src = await openGeoTiff(path, { byteSource: bytes });
  await src.close();
  // no stretch for 8-bit data: only the header and IFD are read
  assert.ok(bytes.bytesRead < 64 * 1024, `${bytes.bytesRead}`);

  const i16 = await fixture("i16_striped.tif");
  const counted = countingSource(await openFileByteSource(i16));
  const small = await openGeoTiff(i16, { byteSource: counted, sampleMaxPixels: 520 * 7 * 4 });
  const size = counted.size;
  await small.close();
  // 4 strips of 7 rows sampled out of 43
  assert.ok(counted.bytesRead < size / 5, `${counted.bytesRead} of ${size}`);
});

Deno.test("openGeoTiff() stretches signed 16-bit and float32 data, nodata excluded", async () => {
  const i16 = await gdalBands(`${GENERATED}i16_striped.tif.gdal.bin`, Int16Array, 520, 300);
  const a = await openGeoTiff(await fixture("i16_striped.tif"));
  try {
    const lo = percentile(i16[0]!, 2), hi = percentile(i16[0]!, 98);
    assert.ok(lo < 0);
    assert.deepEqual(a.stretchRanges, [{ band: 1, low: lo, high: hi }]);
    assertRgbEqualsBands(await full(a), [i16[0]!, i16[0]!, i16[0]!], (v) => stretched(v, lo, hi));
  } finally {
    await a.close();
  }

  const f32 = await gdalBands(`${GENERATED}f32_tiled_nodata.tif.gdal.bin`, Float32Array, 400, 300);
  const b = await openGeoTiff(await fixture("f32_tiled_nodata.tif"));
  try {
    assert.equal(b.nodata, -9999);
    const lo = percentile(f32[0]!, 2, -9999), hi = percentile(f32[0]!, 98, -9999);
    assert.ok(lo > -2 && hi < 43);
    assert.deepEqual(b.stretchRanges, [{ band: 1, low: lo, high: hi }]);
    const win = await full(b);
    assertRgbEqualsBands(win, [f32[0]!, f32[0]!, f32[0]!], (v) => stretched(v, lo, hi));
    assert.equal(win.valid!.filter((v) => v === 0).length, 30 * 50);
    assert.equal(win.valid![0], 0);
    assert.equal(win.valid![50], 1);
  } finally {
    await b.close();
  }
});

Deno.test("openGeoTiff() leaves infinities out of the stretch, and notes a band with no usable pixel", async () => {
  const [inf] = await gdalBands(`${GENERATED}f32_inf.tif.gdal.bin`, Float32Array, 200, 100);
  assert.equal(inf![0], Infinity);
  assert.equal(inf![200 * 22], -Infinity);
  const a = await openGeoTiff(await fixture("f32_inf.tif"));
  try {
    const lo = percentile(inf!, 2), hi = percentile(inf!, 98);
    assert.ok(lo >= 3 && hi <= 11, `${lo} ${hi}`);
    assert.deepEqual(a.stretchRanges, [{ band: 1, low: lo, high: hi }]);
    assert.equal(a.pixelsNote, undefined);
    const win = await full(a);
    // the finite pixels span the 8-bit range; +Inf is white, -Inf black
    const row = (y: number) => win.data[(y * 200 + 100) * 3]!;
    assert.equal(row(0), 255);
    assert.equal(row(22), 0);
    const finite = Array.from({ length: 75 }, (_, k) => row(25 + k));
    assert.ok(new Set(finite).size > 20, `${new Set(finite).size} distinct values`);
  } finally {
    await a.close();
  }
  const b = await openGeoTiff(await fixture("f32_all_nodata.tif"));
  try {
    assert.equal(b.nodata, -9999);
    assert.match(
      b.pixelsNote ?? "",
      /every pixel sampled in band 1 is nodata \(-9999\).*masks will be empty/,
    );
  } finally {
    await b.close();
  }
});

Deno.test("openGeoTiff() replicates a single band and honours the nodata option", async () => {
  const [gray] = await gdalBands(`${GENERATED}gray8_tiled128.tif.gdal.bin`, Uint8Array, 300, 200);
  const value = gray![12345]!;
  const src = await openGeoTiff(await fixture("gray8_tiled128.tif"), { nodata: value });
  try {
    assert.equal(src.bandCount, 1);
    const win = await full(src);
    assertRgbEqualsBands(win, [gray!, gray!, gray!]);
    const want = gray!.filter((v) => v === value).length;
    assert.ok(want > 0);
    assert.equal(win.valid!.filter((v) => v === 0).length, want);
  } finally {
    await src.close();
  }
  const rgb = await openGeoTiff(await fixture("rgb8_tiled_lzw.tif"), { bands: [2] });
  const [, g] = await gdalBands(`${GENERATED}rgb8_tiled_lzw.tif.gdal.bin`, Uint8Array, 600, 400);
  try {
    assertRgbEqualsBands(await full(rgb), [g!, g!, g!]);
  } finally {
    await rgb.close();
  }
});

Deno.test("openGeoTiff() refuses a compression it cannot decode, naming it and the file", async () => {
  await assert.rejects(
    openGeoTiff(await fixture("rgb8_tiled_webp.tif")),
    /^TypeError: Cannot open .*rgb8_tiled_webp\.tif: WEBP compression is not supported; rewrite it/,
  );
});

Deno.test("openGeoTiff() rejects bad band selections naming the file", async () => {
  const path = await fixture("rgb8_tiled_lzw.tif");
  await assert.rejects(openGeoTiff(path, { bands: [1, 4, 2] }), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.match(
      e.message,
      /^Cannot select band 4 of .*rgb8_tiled_lzw\.tif: bands are numbered 1 to 3$/,
    );
    return true;
  });
  await assert.rejects(openGeoTiff(path, { bands: [1, 2] }), RangeError);
  await assert.rejects(openGeoTiff(path, { bands: [0] }), RangeError);
});

Deno.test("openGeoTiff() reads the geotransform and EPSG code as gdalinfo reports them", async () => {
  for (
    const name of [
      "rgb8_striped_deflate.tif",
      "rgb8_tiled_lzw.tif",
      "rgb8_point.tif",
      "gray8_rotated.tif",
      "u16x4_tiled_nodata.tif",
      "i16_striped.tif",
      "f32_tiled_nodata.tif",
      "rgb8_planar.tif",
    ]
  ) {
    const info = await gdalinfo(name);
    const src = await openGeoTiff(await fixture(name));
    try {
      if (info.geoTransform === undefined) {
        assert.equal(src.georef, null, name);
        continue;
      }
      const gt = src.georef!.geoTransform;
      info.geoTransform.forEach((v, i) =>
        assert.ok(
          Math.abs(gt[i]! - v) <= 1e-9 * Math.max(1, Math.abs(v)),
          `${name} gt[${i}] ${gt[i]} vs ${v}`,
        )
      );
      const epsg = /ID\["EPSG",(\d+)\]\]\s*$/.exec(info.coordinateSystem!.wkt)?.[1];
      assert.equal(src.georef!.epsg, Number(epsg), name);
    } finally {
      await src.close();
    }
  }
});

Deno.test("openGeoTiff() shifts a PixelIsPoint georeference by half a pixel", async () => {
  const area = await openGeoTiff(await fixture("rgb8_striped_deflate.tif"));
  const point = await openGeoTiff(await fixture("rgb8_point.tif"));
  try {
    // both files describe the same corner-origin grid (GDAL wrote the tie point accordingly)
    assert.deepEqual(point.georef, area.georef);
    assert.deepEqual(point.georef!.geoTransform, [500000, 1, 0, 5200000, 0, -1]);
  } finally {
    await area.close();
    await point.close();
  }
});

Deno.test("readWindow() of a large tiled file reads only the tiles it needs", async () => {
  const path = await fixture("big_tiled.tif");
  const bytes = countingSource(await openFileByteSource(path));
  const src = await openGeoTiff(path, { byteSource: bytes });
  try {
    const size = (await Deno.stat(path)).size;
    const afterOpen = bytes.bytesRead;
    const win = await src.readWindow([1024, 1536, 1280, 1792]); // exactly one 256x256 tile
    const oneTile = bytes.bytesRead - afterOpen;
    // one tile's compressed bytes (~3 KiB per 1000 px here) plus its two offset entries
    assert.ok(oneTile < (3 * size) / 144, `one tile read ${oneTile} of ${size} bytes`);
    assert.ok(bytes.bytesRead < size / 40, `${bytes.bytesRead} of ${size} bytes`);

    const [r, g, b] = await gdalBands(`${GENERATED}big_tiled.tif.gdal.bin`, Uint8Array, 3072, 3072);
    for (const [x, y] of [[1024, 1536], [1279, 1791], [1100, 1600]] as const) {
      const i = ((y - 1536) * 256 + (x - 1024)) * 3, j = y * 3072 + x;
      assert.deepEqual([...win.data.subarray(i, i + 3)], [r![j], g![j], b![j]]);
    }

    // the same window again: served from the block cache, nothing read
    const before = bytes.bytesRead;
    await src.readWindow([1024, 1536, 1280, 1792]);
    assert.equal(bytes.bytesRead, before);
    // a window across 4 tiles, one of them cached: 3 new tiles read
    await src.readWindow([1100, 1600, 1400, 1900]);
    const three = bytes.bytesRead - before;
    assert.ok(three > 2 * oneTile && three < 4.5 * oneTile, `${three} vs ${oneTile}`);

    // an unaligned window against GDAL
    const w2 = await src.readWindow([2900, 7, 3072, 300]);
    for (let y = 7; y < 300; y += 37) {
      for (let x = 2900; x < 3072; x += 13) {
        const i = ((y - 7) * 172 + (x - 2900)) * 3, j = y * 3072 + x;
        assert.deepEqual([...w2.data.subarray(i, i + 3)], [r![j], g![j], b![j]]);
      }
    }
  } finally {
    await src.close();
  }
});

Deno.test("readWindow() rejects windows outside the image and reads after close", async () => {
  const path = await fixture("rgb8_tiled_lzw.tif");
  const src = await openGeoTiff(path);
  await assert.rejects(src.readWindow([0, 0, 601, 10]), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.equal(
      e.message,
      `Cannot read window [0, 0, 601, 10] of ${path}: outside the 600x400 image`,
    );
    return true;
  });
  await assert.rejects(src.readWindow([-1, 0, 10, 10]), RangeError);
  await assert.rejects(src.readWindow([0.5, 0, 10, 10]), TypeError);
  const empty = await src.readWindow([5, 5, 5, 9]);
  assert.equal(empty.data.length, 0);
  await src.close();
  await assert.rejects(src.readWindow([0, 0, 1, 1]), /Cannot read .*: the source is closed/);
});

Deno.test("readWindow() serves concurrent overlapping reads consistently", async () => {
  const src = await openGeoTiff(await fixture("rgb8_tiled_lzw.tif"), { cacheBytes: 300_000 });
  try {
    const whole = await full(src);
    const wins: Window[] = [];
    for (let k = 0; k < 24; k++) {
      const x = (k * 97) % 450, y = (k * 53) % 250;
      wins.push([x, y, x + 150, y + 150]);
    }
    const results = await Promise.all(wins.map((w) => src.readWindow(w)));
    results.forEach((res, k) => {
      const [x0, y0] = wins[k]!;
      for (let r = 0; r < 150; r++) {
        const a = res.data.subarray(r * 450, (r + 1) * 450);
        const b = whole.data.subarray(((y0 + r) * 600 + x0) * 3, ((y0 + r) * 600 + x0 + 150) * 3);
        assert.deepEqual(a, b);
      }
    });
  } finally {
    await src.close();
  }
});

for (
  const [name, meanBelow] of [
    ["rgb8_tiled_jpeg.tif", 2],
    // YCbCr with 2x2 chroma subsampling: GDAL's libjpeg upsamples the chroma smoothly,
    // geotiff.js by repeating it, so edges differ more
    ["rgb8_tiled_jpeg_ycbcr.tif", 3],
    ["rgb8_striped_jpeg_ycbcr.tif", 3],
  ] as const
) {
  Deno.test(`openGeoTiff() reads a JPEG-compressed GeoTIFF close to GDAL (${name})`, async () => {
    const src = await openGeoTiff(await fixture(name));
    try {
      const bands = await gdalBands(`${GENERATED}${name}.gdal.bin`, Uint8Array, 600, 400);
      const win = await full(src);
      let max = 0, sum = 0;
      const sums = new Float64Array(3);
      for (let i = 0; i < 600 * 400; i++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(win.data[i * 3 + c]! - bands[c]![i]!);
          max = Math.max(max, d);
          sum += d;
          sums[c] = sums[c]! + win.data[i * 3 + c]! - bands[c]![i]!;
        }
      }
      // geotiff.js decodes JPEG with its own decoder, GDAL with libjpeg
      const mean = sum / (3 * 600 * 400);
      assert.ok(mean < meanBelow, `mean ${mean} max ${max}`);
      // no colour cast: each band's mean difference is near 0 (Y, Cb, Cr read as R, G, B
      // would be off by tens of levels)
      for (const s of sums) assert.ok(Math.abs(s / (600 * 400)) < 1, `band means ${sums}`);
      // a window read alone equals the same pixels of the full read
      const part = await src.readWindow([131, 77, 389, 301]);
      for (let y = 0; y < part.height; y++) {
        const row = part.data.subarray(y * part.width * 3, (y + 1) * part.width * 3);
        const start = ((77 + y) * 600 + 131) * 3;
        assert.deepEqual(row, win.data.subarray(start, start + part.width * 3));
      }
    } finally {
      await src.close();
    }
  });
}

/** Runs a command, failing the test with its stderr when it fails. */
async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("openGeoTiff() refuses a truncated file (a partial copy), naming the block and sizes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tiled = await fixture("rgb8_tiled_lzw.tif");
    const raw = `${dir}/raw.tif`;
    await run("gdal_translate", ["-q", "-co", "COMPRESS=NONE", tiled, raw]);
    for (const [name, from] of [["tiled_lzw", tiled], ["striped_raw", raw]]) {
      const bytes = await Deno.readFile(from!);
      const cut = `${dir}/${name}_cut.tif`;
      await Deno.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      // Before: the missing bytes read as zeros, and the image was segmented as if whole.
      await assert.rejects(
        openGeoTiff(cut),
        new RegExp(
          `^TypeError: Cannot open .*${name}_cut\\.tif: the file is truncated: its (tile|strip) ` +
            `\\d+ ends at byte \\d+, the file has ${Math.floor(bytes.length * 0.6)} bytes`,
        ),
      );
    }
    // cut inside the first IFD's arrays: damaged, not "0-bit samples" as a format limit
    const head = `${dir}/head_cut.tif`;
    await Deno.writeFile(head, (await Deno.readFile(raw)).subarray(0, 200));
    await assert.rejects(openGeoTiff(head), /Cannot open .*head_cut\.tif: .*(truncated|damaged)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() reads GDAL's internal mask as nodata, as an alpha band", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 300 x 200, JPEG YCbCr tiles (the usual orthophoto) with a mask: 0 right of x = 200 and in
    // the bottom-left corner; the same pixels as an alpha band in a second file
    const script = `
import numpy as np, sys
from osgeo import gdal
gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
a = (np.arange(300)[None, :] * np.ones((200, 1))).astype(np.uint8)
m = np.full((200, 300), 255, np.uint8); m[:, 200:] = 0; m[150:, :50] = 0
for path, opts, bands in ((sys.argv[1], ["TILED=YES", "COMPRESS=JPEG", "PHOTOMETRIC=YCBCR", "BLOCKXSIZE=128", "BLOCKYSIZE=128"], 3), (sys.argv[2], ["ALPHA=YES"], 4)):
    ds = gdal.GetDriverByName("GTiff").Create(path, 300, 200, bands, gdal.GDT_Byte, opts)
    for b in range(3): ds.GetRasterBand(b + 1).WriteArray(a)
    if bands == 4: ds.GetRasterBand(4).WriteArray(m)
    else:
        ds.CreateMaskBand(gdal.GMF_PER_DATASET)
        ds.GetRasterBand(1).GetMaskBand().WriteArray(m)
    ds = None
`;
    const masked = `${dir}/masked.tif`, alpha = `${dir}/alpha.tif`;
    await run("/usr/bin/python3", ["-c", script, masked, alpha]);
    for (const path of [masked, alpha]) {
      const src = await openGeoTiff(path);
      try {
        const win = await src.readWindow([150, 100, 250, 200]);
        assert.ok(win.valid !== null, `${path}: the masked pixels are nodata`);
        for (let y = 0; y < 100; y++) {
          for (let x = 0; x < 100; x++) {
            const want = 150 + x < 200 ? 1 : 0;
            assert.equal(win.valid[y * 100 + x], want, `${path} (${150 + x}, ${100 + y})`);
          }
        }
        const corner = await src.readWindow([0, 140, 60, 160]);
        assert.equal(corner.valid![15 * 60 + 10], 0, "(10, 155) is masked");
        assert.equal(corner.valid![5 * 60 + 10], 1, "(10, 145) is not");
        const clear = await src.readWindow([0, 0, 100, 100]);
        assert.equal(clear.valid, null, "a window without masked pixels has no valid array");
      } finally {
        await src.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() reads GDAL's external mask (.msk) as it reads the internal one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // the same 300 x 200 pixels and mask (0 right of x = 200 and in the bottom-left corner)
    // with the mask inside the TIFF and in <name>.msk (GDAL_TIFF_INTERNAL_MASK=NO)
    const script = `
import numpy as np, sys
from osgeo import gdal
gdal.UseExceptions()
a = (np.arange(300)[None, :] * np.ones((200, 1))).astype(np.uint8)
m = np.full((200, 300), 255, np.uint8); m[:, 200:] = 0; m[150:, :50] = 0
for path, internal in ((sys.argv[1], "YES"), (sys.argv[2], "NO")):
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", internal)
    ds = gdal.GetDriverByName("GTiff").Create(path, 300, 200, 3, gdal.GDT_Byte, ["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128"])
    for b in range(3): ds.GetRasterBand(b + 1).WriteArray(a)
    ds.CreateMaskBand(gdal.GMF_PER_DATASET)
    ds.GetRasterBand(1).GetMaskBand().WriteArray(m)
    ds = None
`;
    const internal = `${dir}/internal.tif`, external = `${dir}/external.tif`;
    await run("/usr/bin/python3", ["-c", script, internal, external]);
    assert.ok(await exists(`${external}.msk`));
    const read = async (path: string) => {
      const src = await openGeoTiff(path);
      try {
        return await full(src);
      } finally {
        await src.close();
      }
    };
    const want = await read(internal), got = await read(external);
    assert.ok(want.valid !== null && got.valid !== null);
    assert.deepEqual(got.valid, want.valid);
    assert.deepEqual(got.data, want.data);
    assert.equal(got.valid[100 * 300 + 199], 1);
    assert.equal(got.valid[100 * 300 + 200], 0, "(200, 100) is masked");
    assert.equal(got.valid[160 * 300 + 10], 0, "(10, 160) is masked");
    // a .msk of another size is refused, naming it
    await run("gdal_translate", [
      "-q",
      "-outsize",
      "150",
      "100",
      `${external}.msk`,
      `${dir}/small.tif`,
    ]);
    await Deno.rename(`${dir}/small.tif`, `${external}.msk`);
    await assert.rejects(
      openGeoTiff(external),
      new RegExp(`Cannot open .*external\\.tif: its mask .*external\\.tif\\.msk is 150x100`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() reads the bands GDAL tags red, green, blue as such (a B, G, R, NIR file)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rgb = await fixture("rgb8_tiled_lzw.tif");
    const bgrn = `${dir}/bgrn.tif`;
    await run("gdal_translate", [
      "-q",
      ...["-b", "3", "-b", "2", "-b", "1", "-b", "1"],
      ...["-colorinterp", "blue,green,red,undefined", rgb, bgrn],
    ]);
    const window: Window = [10, 20, 200, 120];
    const read = async (path: string, bands?: number[]) => {
      const src = await openGeoTiff(path, { bands });
      try {
        return (await src.readWindow(window)).data;
      } finally {
        await src.close();
      }
    };
    const want = await read(rgb);
    assert.deepEqual(await read(bgrn), want, "tagged Blue, Green, Red: read as R, G, B");
    assert.deepEqual(await read(bgrn, [3, 2, 1]), want);
    assert.notDeepEqual(await read(bgrn, [1, 2, 3]), want, "--bands still wins");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
