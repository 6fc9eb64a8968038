/**
 * Golden fixtures from the PyTorch model (training/make_golden.py): the
 * TypeScript crop, prompt, runtime and paste-back must reproduce them on real
 * iSAID val instances, read in place from ../shared/data (no pixels in git).
 * One fixture file per graph set of the shipped model: golden.json for the main
 * graphs, golden_<N>.json for its small graphs at input size N.
 */
import assert from "node:assert/strict";
import { enclosingHBox, orientedBoxFromCorners } from "../../src/geometry/oriented_box.ts";
import { ramCrop } from "../../src/geometry/ram.ts";
import { promptTokens } from "../../src/geometry/prompt.ts";
import { openRaster } from "../../src/raster/open_raster.ts";
import { cropReadWindow, writeCropTensor } from "../../src/model/crop_tensor.ts";
import { SopsegModel } from "../../src/model/sopseg_model.ts";
import { type GraphSet, graphSets, loadManifest } from "../../src/model/manifest.ts";
import { pasteBack } from "../../src/masks/paste_back.ts";
import { dataTest } from "../_data.ts";

const root = new URL("../..", import.meta.url).pathname;
const modelDir = `${root}models/sopseg-lite`;
const manifest = await loadManifest(modelDir);

interface Summary {
  shape: [number, number, number];
  sum: number[];
  sum_sq: number[];
  samples: { chw: [number, number, number][]; values: number[] };
}

function checkSummary(t: Float32Array, s: Summary, what: string, abs: number, relSum?: number) {
  const [c, h, w] = s.shape;
  let worst = 0;
  s.samples.chw.forEach(([ci, y, x], k) => {
    const d = Math.abs(t[(ci * h + y) * w + x]! - s.samples.values[k]!);
    worst = Math.max(worst, d);
  });
  assert.ok(worst <= abs, `${what}: sampled values differ by up to ${worst} (tolerance ${abs})`);
  if (relSum === undefined) return;
  for (let ci = 0; ci < c; ci++) {
    let sum = 0;
    for (let i = 0; i < h * w; i++) sum += t[ci * h * w + i]!;
    const ref = s.sum[ci]!;
    assert.ok(
      Math.abs(sum - ref) <= relSum * Math.max(1, Math.abs(ref)) + abs * h * w * 1e-2,
      `${what}: channel ${ci} sums to ${sum}, PyTorch ${ref}`,
    );
  }
}

function decodeB64F32(b64: string): Float32Array {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** COCO uncompressed RLE (column-major) -> row-major 0/1 mask. */
function decodeCounts(rle: { size: [number, number]; counts: number[] }): Uint8Array {
  const [h, w] = rle.size;
  const out = new Uint8Array(h * w);
  let p = 0, v = 0;
  for (const n of rle.counts) {
    if (v) {
      for (let k = p; k < p + n; k++) out[(k % h) * w + Math.floor(k / h)] = 1;
    }
    p += n;
    v ^= 1;
  }
  return out;
}

async function sha256(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function goldenTests(set: GraphSet): void {
  const main = set === manifest;
  const file = main ? "golden.json" : `golden_${set.inputSize}.json`;
  const golden = JSON.parse(Deno.readTextFileSync(`${root}test/testdata/golden/${file}`));
  const imagesRoot = `${root}${golden.images_root}`;
  const tol = golden.tolerance;
  // The model frame's side (fixtures from before it was recorded: 256).
  const inputSize: number = golden.input_size ?? 256;
  const label = main ? "" : ` (small graphs, ${inputSize})`;
  assert.equal(inputSize, set.inputSize, `${file} is for input size ${inputSize}`);

  dataTest({
    name: `golden${label}: crops, prompts and crop tensors equal PyTorch's on real val instances`,
    needs: [imagesRoot],
    async fn() {
      for (const g of golden.instances) {
        const box = orientedBoxFromCorners(
          g.obox_corners.map(([x, y]: [number, number]) => ({ x, y })),
        );
        const crop = ramCrop(enclosingHBox(box));
        for (const k of ["x0", "y0", "size"] as const) {
          assert.ok(
            Math.abs(crop[k] - g.crop[k]) < 1e-4,
            `${g.ann_id} crop.${k}: ${crop[k]} vs ${g.crop[k]}`,
          );
        }
        const p = promptTokens(box, crop, { inputSize });
        assert.deepEqual([...p.labels], g.point_labels, `${g.ann_id} labels`);
        g.point_coords.forEach(([x, y]: [number, number], i: number) => {
          const dx = Math.abs(p.coords[2 * i]! - x), dy = Math.abs(p.coords[2 * i + 1]! - y);
          assert.ok(
            dx < 1e-3 && dy < 1e-3,
            `${g.ann_id} point ${i}: (${p.coords[2 * i]}, ${p.coords[2 * i + 1]}) vs (${x}, ${y})`,
          );
        });
        const src = await openRaster(`${imagesRoot}/${g.image}`);
        try {
          const win = cropReadWindow(g.crop, src.width, src.height)!;
          const pixels = await src.readWindow(win);
          const t = writeCropTensor(pixels, { origin: [win[0], win[1]], crop: g.crop }, {
            inputSize,
          });
          checkSummary(
            t,
            g.crop_tensor,
            `${g.ann_id} crop tensor`,
            tol.crop_value_abs,
            tol.sum_rel,
          );
        } finally {
          await src.close();
        }
      }
    },
  });

  dataTest({
    name: `golden${label}: onnxruntime-web reproduces the PyTorch logits and pasted masks`,
    needs: [imagesRoot],
    async fn() {
      for (const f of [set.encoder.file, set.decoder.file]) {
        assert.equal(
          await sha256(`${modelDir}/${f}`),
          golden.model_files_sha256[f],
          `${f} is not the graph the golden fixtures were made with: rerun training/make_golden.py`,
        );
      }
      const model = await SopsegModel.load(modelDir, {
        backend: "wasm",
        threads: 1,
        smallGraphs: !main,
      });
      try {
        for (const g of golden.instances) {
          const src = await openRaster(`${imagesRoot}/${g.image}`);
          let images: Float32Array;
          try {
            const win = cropReadWindow(g.crop, src.width, src.height)!;
            images = writeCropTensor(await src.readWindow(win), {
              origin: [win[0], win[1]],
              crop: g.crop,
            }, { inputSize });
          } finally {
            await src.close();
          }
          // The class prompt from the GT class name, as segment maps a detector's class.
          const cls = model.classPromptIndex(g.category);
          if (g.class_index !== undefined && g.class_index !== null) {
            assert.equal(cls, g.class_index, `${g.ann_id}: class "${g.category}" prompt index`);
          }
          const out = await model.predict({
            size: 1,
            inputSize,
            images,
            coords: Float32Array.from(g.point_coords.flat()),
            labels: Float32Array.from(g.point_labels),
            classes: Int32Array.of(cls),
          });
          const ref = decodeB64F32(g.mask_logits_every4_b64f32);
          let worst = 0;
          const q = inputSize / 4;
          for (let v = 0; v < q; v++) {
            for (let u = 0; u < q; u++) {
              const a = out.maskLogits[(4 * v) * inputSize + 4 * u]!, b = ref[v * q + u]!;
              worst = Math.max(
                worst,
                Math.abs(a - b) / (tol.logits_abs + tol.logits_rel * Math.abs(b)),
              );
            }
          }
          assert.ok(worst <= 1, `${g.ann_id}: logits off by ${worst}x the tolerance`);
          assert.ok(Math.abs(out.iou[0]! - g.iou_prediction) < tol.logits_abs, `${g.ann_id} IoU`);
          // Paste-back: identical wherever the sampled logit is clearly away from 0.
          const [w, h] = g.image_size;
          const want = decodeCounts(g.pasted_mask_rle);
          const opts = { imageWidth: w, imageHeight: h, inputSize };
          const sure = pasteBack(out.maskLogits, g.crop, { ...opts, threshold: 1e-2 });
          const maybe = pasteBack(out.maskLogits, g.crop, { ...opts, threshold: -1e-2 });
          let bad = 0;
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const inWin = (m: typeof sure) =>
                x >= m.x0 && y >= m.y0 && x < m.x0 + m.width && y < m.y0 + m.height &&
                m.data[(y - m.y0) * m.width + (x - m.x0)] === 1;
              const wanted = want[y * w + x] === 1;
              if ((inWin(sure) && !wanted) || (!inWin(maybe) && wanted)) bad++;
            }
          }
          assert.equal(bad, 0, `${g.ann_id}: ${bad} pasted pixels differ from PyTorch's`);
        }
      } finally {
        await model.close();
      }
    },
  });
}

for (const set of graphSets(manifest)) goldenTests(set);
