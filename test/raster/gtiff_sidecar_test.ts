// Which of a GeoTIFF's own tags and the files beside it (GDAL's .aux.xml, a world file, a .prj)
// give its geotransform, CRS and nodata: each case made with gdal_create at test time, read by
// openGeoTiff and compared with `gdalinfo -json` on the same file (GDAL's GTiff driver).
import assert from "node:assert/strict";
import { openGeoTiff } from "../../src/raster/geotiff_source.ts";
import type { OpenRasterOptions } from "../../src/raster/source.ts";
import { gdal } from "./_fixtures.ts";

/** The tags' grid (a 4 x 4 UTM 33N raster, 10 m pixels) and the others, so that which shows. */
const TAGS_GT = [500000, 10, 0, 4000040, 0, -10];
const PAM_GT = [5, 1, 0, 9, 0, -1];
const WORLD = "2\n0\n0\n-2\n101\n199\n"; // geotransform [100, 2, 0, 200, 0, -2]
const WORLD_GT = [100, 2, 0, 200, 0, -2];
/** A user-defined CRS (no EPSG code): GDAL writes it as GeoKeys with parameters. */
const LOCAL_TM = "+proj=tmerc +lat_0=0 +lon_0=14.5 +k=0.9996 +x_0=500000 +y_0=0 +datum=WGS84";

interface Tiff {
  /** `-a_srs` of gdal_create: GeoKeys. */
  srs?: string;
  /** Whether to write the tags' geotransform (`-a_ullr`). */
  tags?: boolean;
  /** `-a_nodata`: the GDAL_NODATA tag. */
  nodata?: number;
  /** `<SRS>` of the .aux.xml (its text, XML-escaped here). */
  pamSrs?: string;
  /** `<GeoTransform>` of the .aux.xml. */
  pamGt?: number[];
  /** `<NoDataValue>` of the .aux.xml by 1-based band. */
  pamNodata?: Record<number, string>;
  /** A `.tfw` beside it. */
  world?: boolean;
  /** A `.prj` beside it (WKT). */
  prj?: string;
}

async function make(dir: string, name: string, t: Tiff): Promise<string> {
  const path = `${dir}/${name}.tif`;
  await gdal("gdal_create", [
    ...["-q", "-of", "GTiff", "-outsize", "4", "4", "-bands", "3", "-burn", "20"],
    ...(t.srs === undefined ? [] : ["-a_srs", t.srs]),
    ...(t.tags ? ["-a_ullr", "500000", "4000040", "500040", "4000000"] : []),
    ...(t.nodata === undefined ? [] : ["-a_nodata", String(t.nodata)]),
    path,
  ]);
  if (t.pamSrs !== undefined || t.pamGt !== undefined || t.pamNodata !== undefined) {
    const esc = (s: string) => s.replaceAll("&", "&amp;").replaceAll('"', "&quot;");
    const srs = t.pamSrs === undefined
      ? ""
      : `<SRS dataAxisToSRSAxisMapping="1,2">${esc(t.pamSrs)}</SRS>`;
    const gt = t.pamGt === undefined ? "" : `<GeoTransform>${t.pamGt.join(", ")}</GeoTransform>`;
    const bands = Object.entries(t.pamNodata ?? {}).map(([b, v]) =>
      `<PAMRasterBand band="${b}"><NoDataValue>${v}</NoDataValue></PAMRasterBand>`
    ).join("");
    await Deno.writeTextFile(`${path}.aux.xml`, `<PAMDataset>${srs}${gt}${bands}</PAMDataset>\n`);
  }
  if (t.world) await Deno.writeTextFile(`${dir}/${name}.tfw`, WORLD);
  if (t.prj !== undefined) await Deno.writeTextFile(`${dir}/${name}.prj`, t.prj);
  return path;
}

interface Read {
  gt: number[] | null;
  epsg: number | null;
  /** Whether a CRS is there at all (for sopseg: an EPSG code or a WKT). */
  hasCrs: boolean;
  /** Nodata of the bands, 1-based (GDAL), or of the selected bands (sopseg); NaN as `null`. */
  nodata: (number | null)[];
}

async function gdalRead(path: string): Promise<Read> {
  const info = JSON.parse(new TextDecoder().decode(await gdal("gdalinfo", ["-json", path])));
  const wkt: string = info.coordinateSystem?.wkt ?? "";
  const id = /ID\["EPSG",(\d+)\]\]\s*$/.exec(wkt);
  return {
    gt: info.geoTransform ?? null,
    epsg: id ? Number(id[1]) : null,
    hasCrs: wkt !== "",
    nodata: info.bands.map((b: { noDataValue?: number | string }) =>
      typeof b.noDataValue === "number" ? b.noDataValue : null
    ),
  };
}

async function sopsegRead(
  path: string,
  options: OpenRasterOptions = {},
): Promise<Read & { wkt: string | null }> {
  const src = await openGeoTiff(path, options);
  await src.close();
  const g = src.georef;
  return {
    gt: g?.geoTransform ?? null,
    epsg: g?.epsg ?? null,
    wkt: g?.wkt ?? null,
    hasCrs: g !== null && (g.epsg !== null || g.wkt !== null),
    nodata: [src.nodata],
  };
}

let wkt4326: string | null = null;
/** EPSG:4326 as GDAL writes it in an .aux.xml `<SRS>` (WKT1 with its authority). */
async function epsg4326(): Promise<string> {
  wkt4326 ??= new TextDecoder().decode(
    await gdal("gdalsrsinfo", ["-o", "wkt1", "--single-line", "EPSG:4326"]),
  ).trim();
  return wkt4326;
}

Deno.test("openGeoTiff() takes the CRS from the .aux.xml <SRS> over the GeoKeys, as gdalinfo does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const wkt = await epsg4326();
    const utm = { srs: "EPSG:32633", tags: true };
    // [name, file, gdalinfo's geotransform and EPSG code]
    const cases: [string, Tiff, number[], number][] = [
      // the reviewer's case: both from the .aux.xml (once the GeoKeys' CRS with the PAM's grid)
      ["pam_srs_gt", { ...utm, pamSrs: wkt, pamGt: PAM_GT }, PAM_GT, 4326],
      // the <SRS> alone still beats the GeoKeys; the grid comes from the tags
      ["pam_srs", { ...utm, pamSrs: wkt }, TAGS_GT, 4326],
      // the <GeoTransform> alone: the GeoKeys keep the CRS
      ["pam_gt", { ...utm, pamGt: PAM_GT }, PAM_GT, 32633],
      // GDAL also reads an <SRS> written as EPSG:<code>
      ["pam_epsg_text", { ...utm, pamSrs: "EPSG:4326", pamGt: PAM_GT }, PAM_GT, 4326],
      // a world file's grid with the .aux.xml's CRS
      ["world_pam_srs", { world: true, pamSrs: wkt }, WORLD_GT, 4326],
      // a user-defined CRS in the GeoKeys: the <SRS> beats it too
      ["local_pam_srs", { srs: LOCAL_TM, tags: true, pamSrs: wkt }, TAGS_GT, 4326],
    ];
    for (const [name, tiff, gt, epsg] of cases) {
      const path = await make(dir, name, tiff);
      const want = await gdalRead(path), got = await sopsegRead(path);
      assert.deepEqual([want.gt, want.epsg], [gt, epsg], `${name}: gdalinfo`);
      assert.deepEqual([got.gt, got.epsg], [want.gt, want.epsg], name);
      if (tiff.pamSrs !== undefined && tiff.pamSrs !== "EPSG:4326") {
        assert.equal(got.wkt, tiff.pamSrs, `${name}: the <SRS>'s WKT`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() takes the geotransform from the .aux.xml, else the tags, else a world file, as gdalinfo does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const utm = { srs: "EPSG:32633", tags: true };
    const cases: [string, Tiff, number[]][] = [
      ["tags", utm, TAGS_GT],
      ["tags_world", { ...utm, world: true }, TAGS_GT],
      ["pam_tags_world", { ...utm, pamGt: PAM_GT, world: true }, PAM_GT],
      // GeoKeys and no grid in the tags: the world file's grid, the GeoKeys' CRS
      ["keys_world", { srs: "EPSG:32633", world: true }, WORLD_GT],
    ];
    for (const [name, tiff, gt] of cases) {
      const path = await make(dir, name, tiff);
      const want = await gdalRead(path), got = await sopsegRead(path);
      assert.deepEqual([want.gt, want.epsg], [gt, 32633], `${name}: gdalinfo`);
      assert.deepEqual([got.gt, got.epsg], [want.gt, want.epsg], name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() reads a .prj only where gdalinfo finds no CRS at all", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const wkt = await epsg4326();
    // GeoKeys naming a code: GDAL ignores the .prj, and so does sopseg
    const keys = await make(dir, "keys_world_prj", { srs: "EPSG:32633", world: true, prj: wkt });
    const keysWant = await gdalRead(keys), keysGot = await sopsegRead(keys);
    assert.deepEqual([keysWant.gt, keysWant.epsg], [WORLD_GT, 32633], "gdalinfo");
    assert.deepEqual([keysGot.gt, keysGot.epsg, keysGot.wkt], [WORLD_GT, 32633, null]);
    // GeoKeys describing a user-defined CRS: GDAL's is theirs, sopseg's the WKT built from them
    const local = await make(dir, "local_prj", { srs: LOCAL_TM, tags: true, prj: wkt });
    const localWant = await gdalRead(local), localGot = await sopsegRead(local);
    assert.deepEqual([localWant.epsg, localWant.hasCrs], [null, true], "gdalinfo");
    assert.equal(localGot.epsg, null);
    assert.match(localGot.wkt ?? "", /^PROJCS\["unknown \(GeoKeys\)".*"central_meridian",14\.5\]/);
    // an <SRS> in the .aux.xml: GDAL's, not the .prj's
    const pam = await make(dir, "world_pam_prj", { world: true, pamSrs: "EPSG:32633", prj: wkt });
    assert.equal((await gdalRead(pam)).epsg, 32633, "gdalinfo");
    assert.equal((await sopsegRead(pam)).epsg, 32633);
    // no CRS anywhere else (a world file or the tags' grid alone): GDAL finds none, sopseg takes
    // the .prj's (a deliberate addition to GDAL's reading)
    for (
      const [name, tiff, gt] of [
        ["world_prj", { world: true, prj: wkt }, WORLD_GT],
        ["tags_prj", { tags: true, prj: wkt }, TAGS_GT],
      ] as const
    ) {
      const path = await make(dir, name, tiff);
      const want = await gdalRead(path), got = await sopsegRead(path);
      assert.deepEqual([want.gt, want.hasCrs], [gt, false], `${name}: gdalinfo`);
      assert.deepEqual([got.gt, got.epsg, got.wkt], [want.gt, 4326, wkt], name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() takes each band's .aux.xml <NoDataValue> over the GDAL_NODATA tag, as gdalinfo does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const utm = { srs: "EPSG:32633", tags: true };
    // [name, file, bands, gdalinfo's nodata of bands 1-3, sopseg's for those bands]
    const cases: [string, Tiff, number[] | undefined, (number | null)[], number | null][] = [
      ["tag", { ...utm, nodata: 7 }, undefined, [7, 7, 7], 7],
      ["pam", { ...utm, pamNodata: { 1: "5", 2: "5", 3: "5" } }, undefined, [5, 5, 5], 5],
      // the reviewer's file: tag 7, band 1's PAM 9
      ["tag_pam1", { ...utm, nodata: 7, pamNodata: { 1: "9" } }, undefined, [9, 7, 7], 9],
      // band 2's PAM: band 1 (the first selected) keeps the tag's; band 2 alone takes it
      ["tag_pam2", { ...utm, nodata: 7, pamNodata: { 2: "9" } }, undefined, [7, 9, 7], 7],
      ["tag_pam2_b2", { ...utm, nodata: 7, pamNodata: { 2: "9" } }, [2, 2, 2], [7, 9, 7], 9],
      ["tag_pam2_b321", { ...utm, nodata: 7, pamNodata: { 2: "9" } }, [3, 2, 1], [7, 9, 7], 7],
      // a PAM nan over the tag: GDAL's nodata is NaN, which sopseg takes for none
      [
        "tag_pam_nan",
        { ...utm, nodata: 7, pamNodata: { 1: "nan" } },
        undefined,
        [null, 7, 7],
        null,
      ],
      // the PAM's value in GDAL's own format
      [
        "tag_pam_e",
        { ...utm, nodata: 7, pamNodata: { 1: "1.20000000000000E+01" } },
        undefined,
        [12, 7, 7],
        12,
      ],
    ];
    for (const [name, tiff, bands, gdalNodata, nodata] of cases) {
      const path = await make(dir, name, tiff);
      const want = await gdalRead(path);
      const got = await sopsegRead(path, bands === undefined ? {} : { bands });
      assert.deepEqual(want.nodata, gdalNodata, `${name}: gdalinfo`);
      assert.deepEqual(got.nodata, [nodata], name);
      assert.equal(nodata, gdalNodata[(bands?.[0] ?? 1) - 1], `${name}: the first selected band's`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openGeoTiff() reads the reviewer's GeoTIFF (.aux.xml SRS, GeoTransform and nodata) as gdalinfo", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await make(dir, "a", {
      srs: "EPSG:32633",
      tags: true,
      nodata: 7,
      pamSrs: "EPSG:4326",
      pamGt: PAM_GT,
      pamNodata: { 1: "9" },
    });
    const want = await gdalRead(path), got = await sopsegRead(path);
    assert.deepEqual(want, { gt: PAM_GT, epsg: 4326, hasCrs: true, nodata: [9, 7, 7] });
    assert.deepEqual(got, { gt: PAM_GT, epsg: 4326, wkt: null, hasCrs: true, nodata: [9] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
