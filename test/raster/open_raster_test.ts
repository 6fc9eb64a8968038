import assert from "node:assert/strict";
import { openRaster, sniffRasterFormat } from "../../src/raster/open_raster.ts";
import { reprojection } from "../../src/formats/reproject.ts";
import type { RasterSource, RgbWindow } from "../../src/raster/source.ts";
import { fixture, gdal, gdalBands, GENERATED, percentile, stretched } from "./_fixtures.ts";
import { dataTest, haveData } from "../_data.ts";

const full = (src: RasterSource) => src.readWindow([0, 0, src.width, src.height]);

/** Largest and mean absolute difference between a window and GDAL's bands. */
function diff(win: RgbWindow, bands: ArrayLike<number>[]): { max: number; mean: number } {
  let max = 0, sum = 0;
  const n = win.width * win.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(win.data[i * 3 + c]! - bands[c]![i]!);
      max = Math.max(max, d);
      sum += d;
    }
  }
  return { max, mean: sum / (3 * n) };
}

/** GDAL's decoding of a file (or a window of it) outside the repo, as band arrays. */
async function gdalDecode(path: string, srcwin: [number, number, number, number]) {
  const dir = await Deno.makeTempDir();
  try {
    await gdal("gdal_translate", [
      "-q",
      "-of",
      "ENVI",
      "-co",
      "INTERLEAVE=BSQ",
      "-srcwin",
      ...srcwin.map(String),
      path,
      `${dir}/x.bin`,
    ]);
    return await gdalBands(`${dir}/x.bin`, Uint8Array, srcwin[2], srcwin[3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openRaster() opens GeoTIFF, PNG and JPEG by content", async () => {
  for (
    const [name, bandCount] of [["rgb8_tiled_lzw.tif", 3], ["rgb8.png", 3], [
      "rgb8.jpg",
      3,
    ]] as const
  ) {
    const src = await openRaster(await fixture(name));
    try {
      assert.equal(src.width, 600);
      assert.equal(src.height, 400);
      assert.equal(src.bandCount, bandCount);
      const [r, g, b] = await gdalBands(`${GENERATED}${name}.gdal.bin`, Uint8Array, 600, 400);
      const d = diff(await full(src), [r!, g!, b!]);
      // JPEG too: the MozJPEG (libjpeg-turbo) decoder matches GDAL's libjpeg exactly.
      assert.equal(d.max, 0, `${name}: ${JSON.stringify(d)}`);
    } finally {
      await src.close();
    }
  }
});

Deno.test("openRaster() selects a JPEG's bands; a bad selection says band", async () => {
  const path = await fixture("rgb8.jpg");
  const [r, g, b] = await gdalBands(`${GENERATED}rgb8.jpg.gdal.bin`, Uint8Array, 600, 400);
  for (const [bands, want] of [[[3, 2, 1], [b!, g!, r!]], [[2], [g!, g!, g!]]] as const) {
    const src = await openRaster(path, { bands: [...bands] });
    try {
      const d = diff(await full(src), [...want]);
      assert.equal(d.max, 0, `bands ${bands}: ${JSON.stringify(d)}`);
    } finally {
      await src.close();
    }
  }
  await assert.rejects(openRaster(path, { bands: [4] }), /Cannot select band 4 of .*rgb8\.jpg/);
});

Deno.test("openRaster() reports PNG alpha 0 as nodata and selects bands", async () => {
  const src = await openRaster(await fixture("rgba8.png"), { bands: [3, 2, 1] });
  try {
    assert.equal(src.bandCount, 4);
    const [r, g, b] = await gdalBands(`${GENERATED}rgba8.png.gdal.bin`, Uint8Array, 600, 400);
    const win = await full(src);
    assert.equal(win.valid!.filter((v) => v === 0).length, 50 * 80);
    assert.equal(win.valid![0], 0);
    assert.equal(win.valid![80], 1);
    assert.equal(win.valid![600 * 50], 1);
    const i = 600 * 100 + 300;
    assert.deepEqual([...win.data.subarray(i * 3, i * 3 + 3)], [b![i], g![i], r![i]]);
    assert.deepEqual([...win.data.subarray(0, 3)], [0, 0, 0]);
  } finally {
    await src.close();
  }
});

Deno.test("openRaster() stretches a 16-bit PNG and expands a palette PNG", async () => {
  const [g16] = await gdalBands(`${GENERATED}gray16.png.gdal.bin`, Uint16Array, 300, 200);
  const src = await openRaster(await fixture("gray16.png"));
  try {
    assert.equal(src.bandCount, 1);
    const lo = percentile(g16!, 2), hi = percentile(g16!, 98);
    const win = await full(src);
    for (let i = 0; i < 300 * 200; i += 7) {
      assert.equal(win.data[i * 3], stretched(g16![i]!, lo, hi));
      assert.equal(win.data[i * 3 + 2], win.data[i * 3]);
    }
  } finally {
    await src.close();
  }

  const pal = await openRaster(await fixture("palette4.png"));
  try {
    assert.equal(pal.width, 37);
    assert.equal(pal.height, 23);
    assert.equal(pal.bandCount, 4); // RGB + alpha from tRNS
    const want = await gdalBands(`${GENERATED}palette4.expected.bin`, Uint8Array, 37, 23);
    const win = await full(pal);
    let transparent = 0;
    for (let i = 0; i < 37 * 23; i++) {
      if (win.valid && win.valid[i] === 0) {
        transparent++;
        continue;
      }
      assert.deepEqual([...win.data.subarray(i * 3, i * 3 + 3)], [
        want[0]![i],
        want[1]![i],
        want[2]![i],
      ]);
    }
    assert.ok(transparent > 0); // index 0 is transparent
  } finally {
    await pal.close();
  }
});

Deno.test("openRaster() names the file of a missing, non-image, truncated or directory path", async () => {
  const missing = `${GENERATED}no_such_file.tif`;
  await assert.rejects(openRaster(missing), (e: Error) => {
    assert.ok(e instanceof Deno.errors.NotFound);
    assert.equal(e.message, `Cannot open ${missing}: no such file`);
    return true;
  });
  const text = await fixture("not_an_image.tif");
  await assert.rejects(openRaster(text), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, `Cannot open ${text}: the content is not a TIFF`);
    return true;
  });
  const truncated = await fixture("truncated.png");
  await assert.rejects(openRaster(truncated), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.ok(e.message.startsWith(`Cannot open ${truncated}: not a readable PNG`), e.message);
    return true;
  });
  await assert.rejects(openRaster(GENERATED), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^Cannot open .*: not a regular file$/);
    return true;
  });
  const empty = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await assert.rejects(
      openRaster(empty),
      new TypeError(`Cannot open ${empty}: the file is empty`),
    );
  } finally {
    await Deno.remove(empty);
  }
  // a TIFF header followed by garbage
  const bad = await Deno.makeTempFile({ suffix: ".tif" });
  try {
    await Deno.writeFile(bad, new Uint8Array([0x49, 0x49, 42, 0, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
    await assert.rejects(openRaster(bad), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.ok(e.message.startsWith(`Cannot open ${bad}: not a readable TIFF`), e.message);
      return true;
    });
  } finally {
    await Deno.remove(bad);
  }
});

Deno.test("sniffRasterFormat() knows TIFF, BigTIFF, PNG and JPEG signatures", () => {
  assert.equal(sniffRasterFormat(new Uint8Array([0x4d, 0x4d, 0, 42])), "tiff");
  assert.equal(sniffRasterFormat(new Uint8Array([0x49, 0x49, 43, 0])), "tiff");
  assert.equal(
    sniffRasterFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    "png",
  );
  assert.equal(sniffRasterFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), "jpeg");
  assert.equal(sniffRasterFormat(new Uint8Array([0x89, 0x50])), null);
});

const DOTA = new URL("../../../shared/data/dota-samples/images/", import.meta.url).pathname;
for (const [name, w, h] of [["P1888.png", 712, 557], ["P0706.png", 1111, 1182]] as const) {
  dataTest({
    name: `openRaster() reads the real DOTA image ${name} as GDAL does`,
    needs: [DOTA + name],
    fn: async () => {
      const src = await openRaster(DOTA + name);
      try {
        assert.equal(src.width, w);
        assert.equal(src.height, h);
        assert.equal(src.georef, null);
        const win: [number, number, number, number] = [101, 57, 357, 313];
        const bands = await gdalDecode(DOTA + name, [101, 57, 256, 256]);
        assert.equal(diff(await src.readWindow(win), bands).max, 0);
      } finally {
        await src.close();
      }
    },
  });
}

const ISAID = new URL("../../../shared/data/isaid512/val/images/", import.meta.url).pathname;
const isaidJpeg = haveData(ISAID)
  ? [...Deno.readDirSync(ISAID)].map((e) => e.name).filter((n) => n.endsWith(".jpg")).sort()[0]
  : undefined;
dataTest({
  name: "openRaster() reads a real iSAID JPEG exactly as GDAL does",
  needs: [ISAID],
  fn: async () => {
    const path = ISAID + isaidJpeg;
    const src = await openRaster(path);
    try {
      assert.equal(src.bandCount, 3);
      const bands = await gdalDecode(path, [0, 0, src.width, src.height]);
      const d = diff(await full(src), bands);
      assert.equal(d.max, 0, JSON.stringify(d));
    } finally {
      await src.close();
    }
  },
});

Deno.test("openRaster() reads the CRS GDAL writes beside a PNG/JPEG (.aux.xml) and a .prj", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tif = `${dir}/utm.tif`;
    await gdal("gdal_translate", [
      "-q",
      "-a_srs",
      "EPSG:32633",
      "-a_ullr",
      "500000",
      "4000100",
      "500150",
      "4000000",
      await fixture("rgb8.png"),
      tif,
    ]);
    // GDAL's PNG export: a world file and the CRS in <png>.aux.xml
    await gdal("gdal_translate", ["-q", "-of", "PNG", "-co", "WORLDFILE=YES", tif, `${dir}/a.png`]);
    const expected = (await openRaster(tif)).georef!;
    assert.equal(expected.epsg, 32633);
    const png = await openRaster(`${dir}/a.png`);
    assert.equal(png.georef?.epsg, 32633);
    assert.match(png.georef!.wkt!, /UTM zone 33N/);
    png.georef!.geoTransform.forEach((v, i) =>
      assert.ok(Math.abs(v - expected.geoTransform[i]!) < 1e-9)
    );
    // an ESRI .prj without an authority: the WKT, no EPSG code
    await Deno.remove(`${dir}/a.png.aux.xml`);
    const esri = 'PROJCS["WGS_1984_UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",' +
      'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",' +
      '0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],' +
      'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",15.0],' +
      'PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]';
    await Deno.writeTextFile(`${dir}/a.prj`, esri);
    const prj = await openRaster(`${dir}/a.png`);
    assert.deepEqual([prj.georef?.epsg, prj.georef?.wkt], [null, esri]);
    // which is enough for WGS84 output: the same longitudes and latitudes as EPSG:32633's
    const p = { x: 500075, y: 4000050 };
    const a = reprojection(prj.georef!).toWgs84(p), b = reprojection(expected).toWgs84(p);
    assert.ok(
      Math.abs(a.x - b.x) < 1e-9 && Math.abs(a.y - b.y) < 1e-9,
      `${a.x},${a.y} vs ${b.x},${b.y}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRaster() says when a GeoTIFF is georeferenced by ground control points only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tif = `${dir}/gcp.tif`;
    const gcps = [[0, 0, 500000, 4000100], [600, 0, 500150, 4000100], [0, 400, 500000, 4000000]]
      .flatMap((g) => ["-gcp", ...g.map(String)]);
    await gdal("gdal_translate", [
      "-q",
      "-a_srs",
      "EPSG:32633",
      ...gcps,
      await fixture("rgb8.png"),
      tif,
    ]);
    const src = await openRaster(tif);
    try {
      assert.equal(src.georef, null);
      assert.match(src.georefNote ?? "", /by 3 ground control points, which sopseg does not read/);
    } finally {
      await src.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
