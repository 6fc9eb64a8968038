// User-defined CRSs in GeoKeys (GDAL writes them for a CRS without an EPSG code): GeoTIFFs
// made by gdal_create, read by openGeoTiff, a pixel reprojected to WGS 84 through the WKT
// built from the keys, compared with gdaltransform on the same file.
import assert from "node:assert/strict";
import { openGeoTiff } from "../../src/raster/geotiff_source.ts";
import { reprojection } from "../../src/formats/reproject.ts";

const CRSS: Record<string, string> = {
  tm_grs80: "+proj=tmerc +lat_0=10 +lon_0=17 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80",
  tm_wgs84: "+proj=tmerc +lat_0=0 +lon_0=17 +k=0.9996 +x_0=500000 +y_0=0 +datum=WGS84",
  tm_us_ft: "+proj=tmerc +lat_0=31 +lon_0=-81 +k=0.9999411764705882 +x_0=200000.0001016002 " +
    "+y_0=0 +ellps=GRS80 +units=us-ft",
  utm_clarke66: "+proj=utm +zone=33 +ellps=clrk66",
  lcc_2sp:
    "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=intl",
  lcc_1sp: "+proj=lcc +lat_1=46.8 +lat_0=46.8 +lon_0=2.3372 +k_0=0.99987742 +x_0=600000 " +
    "+y_0=2200000 +ellps=clrk80ign",
  albers: "+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=10 +y_0=20 +ellps=GRS80",
  laea: "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80",
  polar_b: "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +ellps=WGS84",
  polar_a: "+proj=stere +lat_0=-90 +k=0.994 +lon_0=0 +x_0=2000000 +y_0=2000000 +ellps=WGS84",
  oblique_stereo: "+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 " +
    "+x_0=155000 +y_0=463000 +ellps=bessel",
  mercator_1sp: "+proj=merc +lon_0=10 +k=0.9 +x_0=5 +y_0=7 +ellps=WGS84",
  mercator_2sp: "+proj=merc +lon_0=10 +lat_ts=20 +x_0=5 +y_0=7 +ellps=WGS84",
  sinusoidal: "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181",
};

async function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

/** A 40 x 30 GeoTIFF in `srs` whose corner sits at (x0, y0), 10 units a pixel. */
async function tiff(dir: string, name: string, srs: string, x0 = 100000, y0 = 200300) {
  const path = `${dir}/${name}.tif`;
  await run("gdal_create", [
    "-of",
    "GTiff",
    "-outsize",
    "40",
    "30",
    "-bands",
    "1",
    "-a_srs",
    srs,
    "-a_ullr",
    `${x0}`,
    `${y0}`,
    `${x0 + 400}`,
    `${y0 - 300}`,
    path,
  ]);
  return path;
}

Deno.test("openGeoTiff() names a user-defined CRS from its GeoKeys as GDAL reads it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, srs] of Object.entries(CRSS)) {
      const path = await tiff(dir, name, srs);
      const src = await openGeoTiff(path);
      try {
        const g = src.georef!;
        assert.equal(g.epsg, null, name);
        assert.ok(g.wkt?.startsWith("PROJCS["), `${name}: ${g.wkt}`);
        assert.equal(src.georefNote, undefined, name);
        const [gx, gy] =
          (await run("gdaltransform", ["-t_srs", "EPSG:4326", "-output_xy", path], "17 11\n"))
            .trim().split(/\s+/).map(Number);
        const t = g.geoTransform;
        const ours = reprojection(g).toWgs84({ x: t[0] + 17 * t[1], y: t[3] + 11 * t[5] });
        assert.ok(
          Math.abs(ours.x - gx!) < 1e-7 && Math.abs(ours.y - gy!) < 1e-7,
          `${name}: ours ${ours.x} ${ours.y}, GDAL ${gx} ${gy}`,
        );
      } finally {
        await src.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff(): a projected raster is never named by its geographic code; a datum needing a shift is said", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // GDAL writes GeographicTypeGeoKey 4326 with the user-defined projection: the coordinates
    // are metres, and were once named EPSG:4326
    const wgs = await openGeoTiff(await tiff(dir, "tm", CRSS.tm_wgs84!));
    try {
      assert.equal(wgs.georef!.epsg, null);
      assert.match(wgs.georef!.wkt!, /^PROJCS\[.*GEOGCS\["WGS 84",DATUM\["WGS_1984"/);
    } finally {
      await wgs.close();
    }
    // NAD27 needs a grid shift to WGS 84: no CRS is guessed, and the reason is given
    const nad27 = await openGeoTiff(
      await tiff(dir, "nad27", "+proj=tmerc +lon_0=-100 +datum=NAD27"),
    );
    try {
      assert.deepEqual([nad27.georef!.epsg, nad27.georef!.wkt], [null, null]);
      assert.match(
        nad27.georefNote ?? "",
        /user-defined CRS that sopseg cannot name \(its geographic CRS EPSG:4267 needs a datum shift/,
      );
    } finally {
      await nad27.close();
    }
    // GDAL does not read a .prj beside a TIFF (its GeoKeys name the CRS for gdalinfo): nor does
    // sopseg, and the note stays
    const wkt = (await run("gdalsrsinfo", ["-o", "wkt1", "--single-line", "EPSG:32614"])).trim();
    await Deno.writeTextFile(`${dir}/nad27.prj`, wkt);
    const prj = await openGeoTiff(`${dir}/nad27.tif`);
    try {
      assert.deepEqual([prj.georef!.epsg, prj.georef!.wkt], [null, null]);
      assert.match(prj.georefNote ?? "", /user-defined CRS that sopseg cannot name/);
    } finally {
      await prj.close();
    }
    // an <SRS> in GDAL's .aux.xml names it, as in GDAL, and the note goes
    await Deno.writeTextFile(
      `${dir}/nad27.tif.aux.xml`,
      `<PAMDataset><SRS>${
        wkt.replaceAll("&", "&amp;").replaceAll('"', "&quot;")
      }</SRS></PAMDataset>`,
    );
    const info = JSON.parse(await run("gdalinfo", ["-json", `${dir}/nad27.tif`]));
    assert.match(info.coordinateSystem.wkt, /ID\["EPSG",32614\]\]$/);
    const named = await openGeoTiff(`${dir}/nad27.tif`);
    try {
      assert.equal(named.georef!.epsg, 32614);
      assert.equal(named.georefNote, undefined);
    } finally {
      await named.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
