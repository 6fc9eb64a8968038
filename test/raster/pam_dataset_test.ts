// GDAL's .aux.xml (PAM): its parser, and the nodata it gives a TIFF or a JPEG,
// made with GDAL (python3 osgeo.gdal) and compared with the GDAL_NODATA tag.
import assert from "node:assert/strict";
import { openRaster } from "../../src/raster/open_raster.ts";
import { openGeoTiff } from "../../src/raster/geotiff_source.ts";
import { parseGdalNodata, parsePamDataset } from "../../src/raster/pam_dataset.ts";
import { exists, gdal } from "./_fixtures.ts";

Deno.test("parsePamDataset() reads SRS, GeoTransform and each band's NoDataValue as GDAL writes them", () => {
  const pam = parsePamDataset(
    `<PAMDataset>
  <SRS dataAxisToSRSAxisMapping="1,2">PROJCS[&quot;UTM&quot;,AUTHORITY[&quot;EPSG&quot;,&quot;32633&quot;]]</SRS>
  <GeoTransform>  5.0000029999999999e+05,  5.0e-01,  1.0e-02,  4.0001007e+06,  2.0e-02, -2.5e-01</GeoTransform>
  <PAMRasterBand band="1"><NoDataValue>0.00000000000000E+00</NoDataValue></PAMRasterBand>
  <PAMRasterBand band="2">
    <NoDataValue le_hex_equiv="000000000000F87F">nan</NoDataValue>
  </PAMRasterBand>
  <PAMRasterBand band="3"><Metadata><MDI key="A">1</MDI></Metadata></PAMRasterBand>
</PAMDataset>`,
    "a.jpg.aux.xml",
  );
  assert.equal(pam.srs, 'PROJCS["UTM",AUTHORITY["EPSG","32633"]]');
  // GDAL's order: origin X, pixel width, row rotation, origin Y, column rotation, pixel height
  assert.deepEqual(pam.geoTransform, [500000.3, 0.5, 0.01, 4000100.7, 0.02, -0.25]);
  assert.deepEqual([...pam.bandNodata.keys()], [1, 2]);
  assert.equal(pam.bandNodata.get(1), 0);
  assert.ok(Number.isNaN(pam.bandNodata.get(2)));
  assert.throws(
    () =>
      parsePamDataset(
        '<PAMDataset><PAMRasterBand band="1"><NoDataValue>x</NoDataValue></PAMRasterBand></PAMDataset>',
        "b.tif.aux.xml",
      ),
    /Cannot parse b\.tif\.aux\.xml: band 1's <NoDataValue> "x" is not a number/,
  );
  assert.equal(parseGdalNodata("-9999\0"), -9999);
});

/**
 * 300 x 200 RGB: 0 (the fill) left of x = 100, 60..255 right of it. `tag.tif` has GDAL_NODATA 0;
 * `pam.tif` the same pixels with its nodata set through a read-only dataset, so GDAL keeps it in
 * pam.tif.aux.xml (what `gdal_edit -a_nodata` does for a file it may not write).
 */
const MAKE = `
import numpy as np, sys
from osgeo import gdal
gdal.UseExceptions()
a = np.zeros((200, 300), np.uint8); a[:, 100:] = 60 + (np.arange(200)[None, :] % 196)
for path, tag in ((sys.argv[1], True), (sys.argv[2], False)):
    ds = gdal.GetDriverByName("GTiff").Create(path, 300, 200, 3, gdal.GDT_Byte)
    for b in range(3):
        ds.GetRasterBand(b + 1).WriteArray(a)
        if tag: ds.GetRasterBand(b + 1).SetNoDataValue(0)
    ds = None
ds = gdal.Open(sys.argv[2])
for b in range(3): ds.GetRasterBand(b + 1).SetNoDataValue(0)
ds = None
`;

async function makeNodataPair(dir: string): Promise<{ tag: string; pam: string }> {
  const tag = `${dir}/tag.tif`, pam = `${dir}/pam.tif`;
  await gdal("/usr/bin/python3", ["-c", MAKE, tag, pam]);
  assert.ok(await exists(`${pam}.aux.xml`), "GDAL kept the nodata in pam.tif.aux.xml");
  assert.match(new TextDecoder().decode(await gdal("gdalinfo", [pam])), /NoData Value=0/);
  return { tag, pam };
}

Deno.test("openGeoTiff() reads nodata from GDAL's .aux.xml as it reads the GDAL_NODATA tag", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { tag, pam } = await makeNodataPair(dir);
    const read = async (path: string) => {
      const src = await openGeoTiff(path);
      try {
        return { nodata: src.nodata, win: await src.readWindow([50, 0, 300, 200]) };
      } finally {
        await src.close();
      }
    };
    const want = await read(tag), got = await read(pam);
    assert.equal(want.nodata, 0);
    assert.equal(got.nodata, 0);
    assert.ok(got.win.valid !== null);
    assert.deepEqual(got.win.valid, want.win.valid);
    assert.deepEqual(got.win.data, want.win.data);
    assert.equal(got.win.valid[10 * 250 + 49], 0, "(99, 10) is nodata");
    assert.equal(got.win.valid[10 * 250 + 50], 1, "(100, 10) is not");
    // the .aux.xml wins over the tag, as in GDAL (test/raster/gtiff_sidecar_test.ts)
    const aux = await Deno.readTextFile(`${pam}.aux.xml`);
    const other = aux.replace(/<NoDataValue>[^<]*/g, "<NoDataValue>60");
    assert.notEqual(other, aux);
    await Deno.writeTextFile(`${tag}.aux.xml`, other);
    const info = JSON.parse(new TextDecoder().decode(await gdal("gdalinfo", ["-json", tag])));
    assert.equal(info.bands[0].noDataValue, 60, "gdalinfo: band 1's");
    assert.equal((await read(tag)).nodata, 60);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRaster() reads the nodata gdal_translate writes in a JPEG's .aux.xml", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { tag } = await makeNodataPair(dir);
    const jpg = `${dir}/out.jpg`;
    await gdal("gdal_translate", ["-q", "-of", "JPEG", tag, jpg]);
    assert.match(await Deno.readTextFile(`${jpg}.aux.xml`), /<NoDataValue>/);
    const src = await openRaster(jpg);
    try {
      // whole 8x8 JPEG blocks away from the edge at x = 100: exactly 0 on the left
      const left = await src.readWindow([0, 0, 88, 200]);
      assert.ok(left.valid !== null && left.valid.every((v) => v === 0), "the fill is nodata");
      const right = await src.readWindow([112, 0, 300, 200]);
      assert.equal(right.valid, null, "the image is not");
    } finally {
      await src.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
