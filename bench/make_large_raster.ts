/**
 * Make a large tiled GeoTIFF with known oriented boxes for the memory and
 * speed checks: the synthetic scene (`examples/make_scene.ts`) mosaicked
 * into a `size x size` raster (default 20000), georeferenced in EPSG:32633 at
 * 0.3 m, DEFLATE-compressed in 256x256 tiles by GDAL, plus a DOTA file with
 * `--boxes` detections spread over the whole raster.
 *
 *     deno run --allow-read --allow-write=bench/data --allow-run=gdal_translate,deno \
 *       bench/make_large_raster.ts [--size 20000] [--boxes 1000] [--out bench/data]
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "20000" },
    boxes: { type: "string", default: "1000" },
    out: { type: "string", default: "bench/data" },
  },
});
const size = Number(values.size);
const wanted = Number(values.boxes);
const out = values.out!;
const tile = 768;
const scene = `${out}/scene`;
await Deno.mkdir(`${out}/images`, { recursive: true });
await Deno.mkdir(`${out}/labelTxt`, { recursive: true });

const make = await new Deno.Command("deno", {
  args: [
    "run",
    `--allow-write=${scene}`,
    new URL("../examples/make_scene.ts", import.meta.url).pathname,
    "--out",
    scene,
    "--size",
    String(tile),
  ],
}).output();
if (!make.success) throw new Error(new TextDecoder().decode(make.stderr));

const n = Math.ceil(size / tile);
const sources: string[] = [];
for (let ty = 0; ty < n; ty++) {
  for (let tx = 0; tx < n; tx++) {
    const w = Math.min(tile, size - tx * tile), h = Math.min(tile, size - ty * tile);
    for (let band = 1; band <= 3; band++) {
      sources.push(
        `<SimpleSource band="${band}"><SourceFilename relativeToVRT="1">scene/images/scene.png</SourceFilename>` +
          `<SourceBand>${band}</SourceBand><SrcRect xOff="0" yOff="0" xSize="${w}" ySize="${h}"/>` +
          `<DstRect xOff="${tx * tile}" yOff="${
            ty * tile
          }" xSize="${w}" ySize="${h}"/></SimpleSource>`,
      );
    }
  }
}
const bands = [1, 2, 3].map((b) =>
  `<VRTRasterBand dataType="Byte" band="${b}">` +
  sources.filter((s) => s.includes(`band="${b}"`)).join("") + `</VRTRasterBand>`
).join("\n");
const vrt = `${out}/mosaic.vrt`;
await Deno.writeTextFile(
  vrt,
  `<VRTDataset rasterXSize="${size}" rasterYSize="${size}">\n${bands}\n</VRTDataset>\n`,
);
const tif = `${out}/images/large.tif`;
const gdal = await new Deno.Command("gdal_translate", {
  args: [
    "-q",
    "-of",
    "GTiff",
    "-co",
    "TILED=YES",
    "-co",
    "BLOCKXSIZE=256",
    "-co",
    "BLOCKYSIZE=256",
    "-co",
    "COMPRESS=DEFLATE",
    "-co",
    "BIGTIFF=IF_SAFER",
    "-a_srs",
    "EPSG:32633",
    "-a_ullr",
    "500000",
    String(5000000 + size * 0.3),
    String(500000 + size * 0.3),
    "5000000",
    vrt,
    tif,
  ],
}).output();
if (!gdal.success) throw new Error(new TextDecoder().decode(gdal.stderr));

// Boxes: the scene's boxes, shifted into tiles spread evenly over the raster.
const lines = (await Deno.readTextFile(`${scene}/labelTxt/scene.txt`)).split("\n")
  .filter((l) => /^[\d.-]+ /.test(l));
const tiles = n * n;
const perTile = Math.ceil(wanted / tiles);
const dota = ["imagesource:sopseg synthetic mosaic", "gsd:0.3"];
let k = 0;
for (let t = 0; t < tiles && dota.length - 2 < wanted; t++) {
  const tx = t % n, ty = Math.floor(t / n);
  if ((tx + 1) * tile > size || (ty + 1) * tile > size) continue;
  for (let j = 0; j < perTile && dota.length - 2 < wanted; j++) {
    const f = lines[(k++) % lines.length]!.split(" ");
    const xy = f.slice(0, 8).map((v, i) => Number(v) + (i % 2 === 0 ? tx * tile : ty * tile));
    dota.push(`${xy.map((v) => v.toFixed(1)).join(" ")} ${f[8]} ${f[9]}`);
  }
}
await Deno.writeTextFile(`${out}/labelTxt/large.txt`, dota.join("\n") + "\n");
console.error(`wrote ${tif} (${size}x${size}) and ${dota.length - 2} boxes`);
