// The usual orthophoto GeoTIFF (JPEG-compressed YCbCr, made by GDAL from a real DOTA image)
// through the CLI: masks as on the PNG it was made from, up to what JPEG changes.
import assert from "node:assert/strict";
import { DOTA, runTask } from "./_run_cli.ts";
import { dataTest } from "../_data.ts";
import { gdal } from "../raster/_fixtures.ts";
import { decodeRle, type Rle } from "../../src/masks/rle.ts";

interface Coco {
  annotations: { segmentation: Rle }[];
}

dataTest({
  name: "segment reads a JPEG-compressed YCbCr GeoTIFF as the PNG it was made from",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_ycbcr_" });
    try {
      const png = `${DOTA}/images/P1888.png`;
      await Deno.mkdir(`${dir}/images`);
      const tif = `${dir}/images/P1888.tif`;
      await gdal("gdal_translate", [
        "-q",
        ...["-co", "TILED=YES", "-co", "COMPRESS=JPEG", "-co", "PHOTOMETRIC=YCBCR"],
        ...["-co", "JPEG_QUALITY=90", "-a_srs", "EPSG:32633"],
        ...["-a_ullr", "500000", "4500000", "500178", "4499860.75", png, tif],
      ]);
      const labels = `${DOTA}/labelTxt/P1888.txt`;
      const run = async (image: string, out: string) => {
        const r = await runTask("segment", [
          ...["--images", image, "--detections", labels, "--out", out, "--backend", "wasm"],
        ]);
        assert.equal(r.code, 0, r.stderr);
        const coco: Coco = JSON.parse(await Deno.readTextFile(`${out}/coco.json`));
        return coco.annotations.map((a) => decodeRle(a.segmentation));
      };
      const fromPng = await run(png, `${dir}/png`);
      const fromTif = await run(tif, `${dir}/tif`);
      assert.equal(fromTif.length, 64);
      const ious = fromPng.map((a, k) => {
        const b = fromTif[k]!;
        let inter = 0, union = 0;
        for (let i = 0; i < a.length; i++) {
          inter += a[i]! & b[i]!;
          union += a[i]! | b[i]!;
        }
        return union === 0 ? 1 : inter / union;
      });
      const mean = ious.reduce((s, v) => s + v, 0) / ious.length;
      // 0.995 measured; read as Y, Cb, Cr (no conversion) the mean falls to 0.87
      assert.ok(mean > 0.97, `mean IoU ${mean.toFixed(3)}, lowest ${Math.min(...ious)}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
