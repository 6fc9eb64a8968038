// The georeference GDAL reads beside an image (world files, the .aux.xml's
// GeoTransform and SRS), made with GDAL and checked against gdalinfo.
import assert from "node:assert/strict";
import { openRaster } from "../../src/raster/open_raster.ts";
import { georefSidecarNames, maskFileNames, parseWorldFile } from "../../src/raster/world_file.ts";
import type { Georef } from "../../src/raster/source.ts";
import { exists, fixture, gdal } from "./_fixtures.ts";

/** `gdalinfo -json`'s geotransform and EPSG code of a file. */
async function gdalGeoref(path: string): Promise<{ gt: number[] | null; epsg: number | null }> {
  const info = JSON.parse(new TextDecoder().decode(await gdal("gdalinfo", ["-json", path])));
  const id = /ID\["EPSG",(\d+)\]\]\s*$/.exec(info.coordinateSystem?.wkt ?? "");
  return { gt: info.geoTransform ?? null, epsg: id ? Number(id[1]) : null };
}

async function georefOf(path: string): Promise<Georef | null> {
  const src = await openRaster(path);
  await src.close();
  return src.georef;
}

function assertSameGt(got: readonly number[] | undefined, want: readonly number[], what: string) {
  assert.ok(got !== undefined, `${what}: no georeference`);
  got.forEach((v, i) =>
    assert.ok(Math.abs(v - want[i]!) <= 1e-9 * Math.max(1, Math.abs(want[i]!)), `${what}: ${got}`)
  );
}

/** A 600 x 400 UTM 33N GeoTIFF (0.5 x 0.25 m pixels, origin off the metre grid) in `dir`. */
async function georefTiff(dir: string): Promise<string> {
  const tif = `${dir}/geo.tif`;
  await gdal("gdal_translate", [
    "-q",
    ...["-a_srs", "EPSG:32633", "-a_ullr", "500000.3", "4000100.7", "500300.3", "4000000.7"],
    await fixture("rgb8.png"),
    tif,
  ]);
  return tif;
}

/** The .aux.xml without its `<GeoTransform>`: the CRS alone, as beside a world file. */
async function dropPamGeoTransform(auxXml: string): Promise<void> {
  const text = await Deno.readTextFile(auxXml);
  await Deno.writeTextFile(auxXml, text.replace(/\s*<GeoTransform>[^<]*<\/GeoTransform>/, ""));
}

Deno.test("openRaster() reads a TIFF's world file + .aux.xml SRS as the same raster's GeoTIFF tags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tags = await georefOf(await georefTiff(dir));
    assert.equal(tags?.epsg, 32633);
    // No GeoTIFF tags: a .tfw, and the CRS in tfw.tif.aux.xml (GDAL also puts the geotransform
    // there; taken out, so that the world file is what georeferences it)
    await gdal("gdal_translate", [
      "-q",
      ...["-co", "PROFILE=BASELINE", "-co", "TFW=YES"],
      `${dir}/geo.tif`,
      `${dir}/tfw.tif`,
    ]);
    assert.ok(await exists(`${dir}/tfw.tfw`));
    await dropPamGeoTransform(`${dir}/tfw.tif.aux.xml`);
    // each name GDAL looks for: .tfw, .tifw, .wld; an upper-case one beside an upper-case name
    const cases: [string, string][] = [
      ["tfw.tif", "tfw.tfw"],
      ["tifw.tif", "tifw.tifw"],
      ["wld.tif", "wld.wld"],
      ["UP.TIF", "UP.TFW"],
    ];
    for (const [image, world] of cases) {
      if (image !== "tfw.tif") {
        await Deno.copyFile(`${dir}/tfw.tif`, `${dir}/${image}`);
        await Deno.copyFile(`${dir}/tfw.tif.aux.xml`, `${dir}/${image}.aux.xml`);
        await Deno.copyFile(`${dir}/tfw.tfw`, `${dir}/${world}`);
      }
      const gdalSays = await gdalGeoref(`${dir}/${image}`);
      const got = await georefOf(`${dir}/${image}`);
      assertSameGt(got?.geoTransform, tags!.geoTransform, image);
      assertSameGt(got?.geoTransform, gdalSays.gt!, `${image} (gdalinfo)`);
      assert.equal(got?.epsg, 32633, image);
      assert.equal(gdalSays.epsg, 32633, image);
    }
    // the world file alone: the same grid, no CRS (as gdalinfo says)
    await Deno.remove(`${dir}/tfw.tif.aux.xml`);
    const bare = await georefOf(`${dir}/tfw.tif`);
    assertSameGt(bare?.geoTransform, tags!.geoTransform, "tfw.tif without .aux.xml");
    assert.deepEqual([bare?.epsg, bare?.wkt], [null, null]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRaster() reads the GeoTransform GDAL writes in a JPEG's .aux.xml (no world file)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tif = await georefTiff(dir);
    await gdal("gdal_translate", ["-q", "-of", "JPEG", tif, `${dir}/cam.JPG`]);
    assert.ok(!(await exists(`${dir}/cam.wld`)) && !(await exists(`${dir}/cam.jgw`)));
    const gdalSays = await gdalGeoref(`${dir}/cam.JPG`);
    const got = await georefOf(`${dir}/cam.JPG`);
    assertSameGt(got?.geoTransform, gdalSays.gt!, "cam.JPG");
    assertSameGt(got?.geoTransform, [500000.3, 0.5, 0, 4000100.7, 0, -0.25], "cam.JPG");
    assert.equal(got?.epsg, 32633);
    assert.match(got?.wkt ?? "", /UTM zone 33N/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRaster() picks between .aux.xml, GeoTIFF tags and world file in gdalinfo's order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tif = await georefTiff(dir);
    // another grid in each kind of sidecar, so that which one is read shows
    const other = "2\n0\n0\n-2\n101\n199\n"; // geotransform [100, 2, 0, 200, 0, -2]
    const pam = "<PAMDataset><GeoTransform>7, 3, 0, 9, 0, -3</GeoTransform></PAMDataset>";
    await gdal("gdal_translate", ["-q", "-of", "JPEG", tif, `${dir}/a.jpg`]);
    await gdal("gdal_translate", ["-q", "-of", "PNG", tif, `${dir}/a.png`]);
    for (const name of ["tags_pam", "tags_tfw", "pam_tfw"]) {
      await gdal("gdal_translate", [
        "-q",
        ...(name === "pam_tfw" ? ["-co", "PROFILE=BASELINE"] : []),
        tif,
        `${dir}/${name}.tif`,
      ]);
    }
    await Deno.writeTextFile(`${dir}/tags_pam.tif.aux.xml`, pam);
    await Deno.writeTextFile(`${dir}/tags_tfw.tfw`, other);
    await Deno.writeTextFile(`${dir}/pam_tfw.tfw`, other);
    await Deno.writeTextFile(`${dir}/a.jgw`, other);
    await Deno.writeTextFile(`${dir}/a.pgw`, other);
    // GTiff: PAM, then the tags, then a world file; JPEG: PAM first; PNG: the world file first
    const want: Record<string, number[]> = {
      "tags_pam.tif": [7, 3, 0, 9, 0, -3],
      "tags_tfw.tif": [500000.3, 0.5, 0, 4000100.7, 0, -0.25],
      "pam_tfw.tif": [500000.3, 0.5, 0, 4000100.7, 0, -0.25],
      "a.jpg": [500000.3, 0.5, 0, 4000100.7, 0, -0.25],
      "a.png": [100, 2, 0, 200, 0, -2],
    };
    for (const [name, gt] of Object.entries(want)) {
      const got = await georefOf(`${dir}/${name}`);
      assertSameGt((await gdalGeoref(`${dir}/${name}`)).gt!, gt, `${name} (gdalinfo)`);
      assertSameGt(got?.geoTransform, gt, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRaster() refuses a malformed world file or .aux.xml GeoTransform, naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tif = `${dir}/plain.tif`;
    await gdal("gdal_translate", ["-q", await fixture("rgb8.png"), tif]);
    await Deno.writeTextFile(`${dir}/plain.tfw`, "0.5\n0\nzero\n-0.5\n500000.25\n4000099.75\n");
    await assert.rejects(
      openRaster(tif),
      (e: Error) =>
        e instanceof SyntaxError &&
        e.message.includes(`Cannot parse world file ${dir}/plain.tfw: line 3 ("zero")`),
    );
    await Deno.writeTextFile(`${dir}/plain.tfw`, "0.5\n0\n\n0\n-0.5\n");
    await assert.rejects(openRaster(tif), /plain\.tfw: expected 6 numbers \(one a line\), found 4/);
    await Deno.remove(`${dir}/plain.tfw`);
    await Deno.writeTextFile(
      `${tif}.aux.xml`,
      "<PAMDataset><GeoTransform>1, 2, 3</GeoTransform></PAMDataset>",
    );
    await assert.rejects(
      openRaster(tif),
      new RegExp(`Cannot parse ${dir}/plain\\.tif\\.aux\\.xml: <GeoTransform> should hold 6`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseWorldFile() takes one number a line, skips blank lines, refuses a zero pixel size", () => {
  assert.deepEqual(
    parseWorldFile("\uFEFF2\r\n0\r\n\r\n0\r\n-2\r\n101\r\n199\r\n", "a.tfw"),
    [100, 2, 0, 200, 0, -2],
  );
  assert.deepEqual(parseWorldFile("2\n0\n0\n-2\n101\n199\nextra words\n", "a.tfw"), [
    100,
    2,
    0,
    200,
    0,
    -2,
  ]);
  assert.throws(
    () => parseWorldFile("0\n0\n0\n-2\n101\n199\n", "z.tfw"),
    /Cannot parse world file z\.tfw: its pixel size is zero/,
  );
});

Deno.test("georefSidecarNames() lists a TIFF's world files and .msk (what the server's cache watches)", () => {
  const names = georefSidecarNames("/d/a.tif");
  for (const n of ["/d/a.tfw", "/d/a.TFW", "/d/a.tifw", "/d/a.wld", "/d/a.tif.aux.xml"]) {
    assert.ok(names.includes(n), n);
  }
  for (const n of maskFileNames("/d/a.tif")) assert.ok(names.includes(n), n);
  assert.ok(georefSidecarNames("/d/UP.TIF").includes("/d/UP.tfw"));
});
