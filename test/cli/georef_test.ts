// Georeferenced GeoTIFFs end to end through the permission-scoped CLI, output
// coordinates checked against GDAL's own transform (gdaltransform) of the same
// pixel points: --crs raster and --crs wgs84 (RFC 7946), --vector-format fgb read
// back by ogrinfo.
import assert from "node:assert/strict";
import { runTask } from "./_run_cli.ts";
import { fixture, gdal } from "../raster/_fixtures.ts";
import { boxCorners } from "../../src/geometry/oriented_box.ts";
import { gdaltransform } from "../_files.ts";

// Boxes inside every fixture (the smallest is 300x200): an axis-aligned car, a rotated ship.
const BOXES = "40 40 80 40 80 60 40 60 car 0\n150 100 210 130 200 150 140 120 ship 0\n";

/** name in the test folder -> how to make it (a fixture, or gdal_translate args on one). */
const RASTERS: Record<string, { from: string; translate?: string[] }> = {
  utm_north_up: { from: "rgb8_striped_deflate.tif" }, // EPSG:32633, 1 m
  rotated: { from: "gray8_rotated.tif" }, // EPSG:32633, rotated geotransform
  pixel_is_point: { from: "rgb8_point.tif" }, // EPSG:32633, AREA_OR_POINT=Point
  u16_nodata: { from: "u16x4_tiled_nodata.tif" }, // EPSG:32633, 16-bit, nodata 0
  // Two projected CRSs that are not UTM: Lambert-93 (LCC, France), LAEA Europe.
  lambert93: {
    from: "rgb8_striped_deflate.tif",
    translate: ["-a_srs", "EPSG:2154", "-a_ullr", "652000", "6862000", "652300", "6861800"],
  },
  laea_europe: {
    from: "rgb8_striped_deflate.tif",
    translate: ["-a_srs", "EPSG:3035", "-a_ullr", "4321000", "3210000", "4321150", "3209900"],
  },
  // UTM 60N at 60N, where longitude 180 crosses the car (about pixel column 60): in WGS84 its
  // mask is cut there (RFC 7946 3.1.9); gdaltransform: 180E 60N is (667294.8, 6655205.5).
  antimeridian: {
    from: "rgb8_striped_deflate.tif",
    translate: ["-a_srs", "EPSG:32660", "-a_ullr", "667235", "6655255", "667835", "6654855"],
  },
  // Longitudes 179.9994..180.0054 (a grid in 0..360), 1e-5 degree pixels: 180 is the left edge
  // of pixel column 60, so the car's mask has edges on the line and the ship lies past it.
  antimeridian_4326: {
    from: "rgb8_striped_deflate.tif",
    translate: ["-a_srs", "EPSG:4326", "-a_ullr", "179.9994", "60.002", "180.0054", "59.998"],
  },
};

/** The rasters whose WGS84 output is cut at the antimeridian. */
const ACROSS = ["antimeridian", "antimeridian_4326"];

interface Feature {
  geometry: { type: string; coordinates: number[][][] | number[][][][] } | null;
  properties: { obb: number[]; obb_pixel: [number, number, number, number, number] };
}

let made: Promise<string> | null = null;

/** A folder with images/ (the rasters above) and labels/ (BOXES for each). */
function makeInputs(): Promise<string> {
  made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_georef_" });
    await Deno.mkdir(`${dir}/images`);
    await Deno.mkdir(`${dir}/labels`);
    for (const [name, spec] of Object.entries(RASTERS)) {
      const src = await fixture(spec.from);
      if (spec.translate) {
        await gdal("gdal_translate", ["-q", ...spec.translate, src, `${dir}/images/${name}.tif`]);
      } else {
        await Deno.copyFile(src, `${dir}/images/${name}.tif`);
      }
      await Deno.writeTextFile(`${dir}/labels/${name}.txt`, BOXES);
    }
    return dir;
  })();
  return made;
}

/** How many features of `layer` in `file` GDAL (GEOS) finds valid. */
async function validCount(file: string, layer: string): Promise<number> {
  const sql = `select count(*) as n from ${layer} where ST_IsValid(geometry)`;
  const info = new TextDecoder().decode(
    await gdal("ogrinfo", ["-ro", "-dialect", "SQLite", "-sql", sql, file]),
  );
  const n = info.match(/n \(Integer\) = (\d+)/);
  assert.ok(n, info);
  return Number(n[1]);
}

function vertices(f: Feature): number[][] {
  const g = f.geometry!;
  const polys = (g.type === "Polygon" ? [g.coordinates] : g.coordinates) as number[][][][];
  return polys.flat(2);
}

async function segment(dir: string, out: string, extra: string[]) {
  const r = await runTask("segment", [
    "--images",
    `${dir}/images`,
    "--detections",
    `${dir}/labels`,
    "--out",
    out,
    "--backend",
    "wasm",
    "--quiet",
    ...extra,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`done: ${2 * Object.keys(RASTERS).length} masks`));
}

for (const crs of ["wgs84", "raster"] as const) {
  Deno.test(`segment --crs ${crs} on GeoTIFFs matches gdaltransform`, async () => {
    const dir = await makeInputs();
    const out = `${dir}/out_${crs}`;
    await segment(dir, out, ["--crs", crs]);
    let worstDeg = 0, worstPx = 0;
    for (const name of Object.keys(RASTERS)) {
      const tif = `${dir}/images/${name}.tif`;
      const fc = JSON.parse(await Deno.readTextFile(`${out}/${name}.geojson`));
      const srs = crs === "wgs84" ? ["-t_srs", "EPSG:4326"] : [];
      if (crs === "wgs84") {
        // RFC 7946: no crs member, longitude/latitude.
        assert.equal(fc.crs, undefined, name);
        assert.equal(fc["sopseg:coordinates"], "wgs84", name);
      } else {
        assert.equal(fc["sopseg:coordinates"], "map", name);
        assert.match(fc.crs.properties.name, /^urn:ogc:def:crs:EPSG::\d+$/, name);
      }
      assert.equal(fc.features.length, 2, name);
      if (crs === "wgs84" && ACROSS.includes(name)) {
        // the cut masks are valid geometry in GDAL (GEOS): no ring along the line and back
        assert.equal(await validCount(`${out}/${name}.geojson`, name), 2, name);
      }
      for (const f of fc.features as Feature[]) {
        // The prompt box corners: the pixel corners through GDAL.
        const [cx, cy, width, height, deg] = f.properties.obb_pixel;
        const pixel = boxCorners({ cx, cy, width, height, angle: deg * Math.PI / 180 });
        const expected = await gdaltransform([...srs, tif], pixel.map((p) => [p.x, p.y]));
        const tol = crs === "wgs84" ? 1e-7 : 2e-3; // degrees; metres (3 decimals of 1 m px)
        expected.forEach(([x, y], i) => {
          // (a longitude past 180 is written in -180..180)
          const dx = Math.abs(((f.properties.obb[2 * i]! - x! + 540) % 360) - 180);
          if (crs === "wgs84") assert.ok(Math.abs(f.properties.obb[2 * i]!) <= 180);
          const dy = Math.abs(f.properties.obb[2 * i + 1]! - y!);
          if (crs === "wgs84") worstDeg = Math.max(worstDeg, dx, dy);
          assert.ok(dx <= tol && dy <= tol, `${name} obb corner ${i}: ${dx}, ${dy}`);
        });
        // Every polygon vertex is a pixel corner: GDAL's inverse lands on integers.
        assert.ok(f.geometry !== null, `${name}: empty mask`);
        // (5e-3 px: 1.25 mm on the 0.25 m LAEA raster, where proj4js and PROJ differ by < 0.5 mm.)
        // (In WGS84 the vertices on the antimeridian are where a mask is cut: no pixel corners.)
        const corners = vertices(f).filter(([x]) => crs === "raster" || Math.abs(x!) !== 180);
        if (crs === "wgs84") {
          // no polygon spans the globe: each part of a mask lies on one side of 180
          const g = f.geometry!;
          const parts = (g.type === "Polygon" ? [g.coordinates] : g.coordinates) as number[][][][];
          for (const part of parts) {
            const lons = part.flat().map(([x]) => x!);
            assert.ok(
              Math.max(...lons) - Math.min(...lons) < 0.01,
              `${name}: a part spans ${lons}`,
            );
          }
          if (ACROSS.includes(name) && f.properties.obb_pixel[0] < 100) {
            assert.equal(g.type, "MultiPolygon", `${name}: the car's mask is cut at 180`);
            assert.ok(parts.some((p) => p[0]!.some(([x]) => x === 180)));
            assert.ok(parts.some((p) => p[0]!.some(([x]) => x === -180)));
          }
        }
        // (the 0..360 raster's frame: longitudes written west of 180 are past it there)
        const unwrap = name === "antimeridian_4326" && crs === "wgs84";
        const back = await gdaltransform(
          ["-i", ...srs, tif],
          unwrap ? corners.map(([x, y]) => [x! < 0 ? x! + 360 : x!, y!]) : corners,
        );
        for (const [x, y] of back) {
          worstPx = Math.max(worstPx, Math.abs(x! - Math.round(x!)), Math.abs(y! - Math.round(y!)));
          assert.ok(
            Math.abs(x! - Math.round(x!)) < 5e-3 && Math.abs(y! - Math.round(y!)) < 5e-3,
            `${name}: vertex maps back to (${x}, ${y})`,
          );
        }
      }
    }
    console.error(
      `--crs ${crs}: max |obb - gdaltransform| ${worstDeg.toExponential(2)} deg, ` +
        `vertices back to pixels within ${worstPx.toExponential(2)} px`,
    );
  });
}

Deno.test("segment --vector-format fgb is read by ogrinfo: count, CRS, valid, indexed", async () => {
  const dir = await makeInputs();
  for (const [crs, epsg] of [["raster", "32633"], ["wgs84", "4326"]] as const) {
    const out = `${dir}/out_fgb_${crs}`;
    await segment(dir, out, ["--vector-format", "fgb", "--crs", crs]);
    const fgb = `${out}/utm_north_up.fgb`;
    const info = new TextDecoder().decode(await gdal("ogrinfo", ["-ro", "-al", "-so", fgb]));
    assert.match(info, /Feature Count: 2/);
    assert.match(info, /Geometry: Multi Polygon/);
    assert.match(info, new RegExp(`ID\\["EPSG",${epsg}\\]\\]\\s*$`, "m"));
    assert.equal(await validCount(fgb, "utm_north_up"), 2);
    // where each mask's box was read: the labels file's lines 1 (the car) and 2 (the ship)
    const origins = new TextDecoder().decode(
      await gdal("ogrinfo", [
        "-ro",
        "-dialect",
        "SQLite",
        "-sql",
        "select class || ':' || source_line || ':' || coalesce(source_record, 'null') || ':' || " +
        "source_file as o from utm_north_up order by source_line",
        fgb,
      ]),
    );
    const read = [...origins.matchAll(/o \(String\) = (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(read, [
      `car:1:null:${dir}/labels/utm_north_up.txt`,
      `ship:2:null:${dir}/labels/utm_north_up.txt`,
    ]);
    // The spatial index answers a window query like a full scan of the GeoJSON does.
    const extent = /Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)/.exec(info)!;
    const [x0, y0, x1, y1] = extent.slice(1).map(Number) as [number, number, number, number];
    // The top-left quarter holds the car (pixels 40..80 x 40..60), not the ship (x >= 140).
    const window = [x0, (y0 + y1) / 2, (x0 + x1) / 2, y1].map(String);
    const count = async (file: string) =>
      /Feature Count: (\d+)/.exec(
        new TextDecoder().decode(
          await gdal("ogrinfo", ["-ro", "-al", "-so", "-spat", ...window, file]),
        ),
      )?.[1];
    assert.equal(await count(fgb), "1");
  }
});

Deno.test("segment --overlay: each overlay lies on its raster in GDAL (world file and CRS)", async () => {
  const dir = await makeInputs();
  const out = `${dir}/out_overlay`;
  await segment(dir, out, ["--overlay", "--vector-format", "fgb"]);
  const info = async (path: string) =>
    JSON.parse(new TextDecoder().decode(await gdal("gdalinfo", ["-json", path])));
  for (const name of Object.keys(RASTERS)) {
    const raster = await info(`${dir}/images/${name}.tif`);
    const overlay = await info(`${out}/${name}.overlay.png`);
    assert.deepEqual(overlay.size, raster.size, name);
    overlay.geoTransform.forEach((v: number, i: number) => {
      const want = raster.geoTransform[i];
      assert.ok(Math.abs(v - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${name} ${i}: ${v}`);
    });
    const epsg = (j: { coordinateSystem?: { wkt?: string } }) =>
      /ID\["EPSG",(\d+)\]\]\s*$/.exec(j.coordinateSystem?.wkt ?? "")?.[1];
    assert.ok(epsg(raster) !== undefined, name);
    assert.equal(epsg(overlay), epsg(raster), name);
  }
});
