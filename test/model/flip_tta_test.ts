import assert from "node:assert/strict";
import { mulberry32 } from "../../src/random.ts";
import { averageMirrors, mirrorPrompt, withMirrors } from "../../src/model/flip_tta.ts";
import { promptTokens } from "../../src/geometry/prompt.ts";
import { SopsegModel } from "../../src/model/sopseg_model.ts";
import type { OrientedBox } from "../../src/geometry/oriented_box.ts";

Deno.test("mirrorPrompt() gives the tokens the pipeline builds for the mirrored box", () => {
  const r = mulberry32(3);
  const n = 288;
  for (let k = 0; k < 500; k++) {
    const crop = { x0: 100 * r(), y0: 100 * r(), size: 40 + 200 * r() };
    const box: OrientedBox = {
      cx: crop.x0 + crop.size * (0.3 + 0.4 * r()),
      cy: crop.y0 + crop.size * (0.3 + 0.4 * r()),
      width: 5 + 30 * r(),
      height: 5 + 30 * r(),
      // every 50th box axis-aligned: the vertical-axis tie of the OPM points
      angle: k % 50 === 0 ? 0 : Math.PI * (r() - 0.5),
    };
    if (k % 100 === 0) box.height = box.width; // a square
    const mirrored = { ...box, cx: 2 * crop.x0 + crop.size - box.cx, angle: -box.angle };
    for (const mode of ["opm", "box", "points"] as const) {
      const p = promptTokens(box, crop, { inputSize: n, mode });
      const want = promptTokens(mirrored, crop, { inputSize: n, mode });
      const got = mirrorPrompt(p.coords, p.labels, n);
      for (let i = 0; i < 10; i++) {
        assert.ok(
          Math.abs(got[i]! - want.coords[i]!) < 1e-3,
          `box ${k} ${mode} token ${i >> 1}: ${got} vs ${want.coords}`,
        );
      }
      assert.deepEqual(want.labels, p.labels);
    }
  }
});

Deno.test("withMirrors() then averageMirrors(): mirrored crops, and a symmetric answer back", () => {
  const n = 4, b = 2;
  const images = Float32Array.from({ length: b * 3 * n * n }, (_, i) => i);
  const coords = Float32Array.from({ length: b * 10 }, (_, i) => 1 + (i % 3));
  const labels = Float32Array.from({ length: b * 5 }, (_, i) => [1, 1, 1, 2, 3][i % 5]!);
  const classes = Int32Array.of(4, 9);
  const doubled = withMirrors({ size: b, inputSize: n, images, coords, labels, classes }, n);
  assert.equal(doubled.size, 2 * b);
  assert.deepEqual(Array.from(doubled.classes!), [4, 9, 4, 9]);
  // crop 1's mirror: row 0 of channel 0 reversed
  const first = (b + 1) * 3 * n * n;
  assert.deepEqual(Array.from(doubled.images.subarray(first, first + n)), [51, 50, 49, 48]);
  assert.deepEqual(doubled.images.subarray(0, b * 3 * n * n), images);

  // a model whose logits are the mirrored crops' own pixels: averaging gives the original's
  const plane = n * n;
  const maskLogits = new Float32Array(2 * b * plane);
  for (let i = 0; i < 2 * b; i++) {
    maskLogits.set(doubled.images.subarray(i * 3 * plane, i * 3 * plane + plane), i * plane);
  }
  const iou = Float32Array.of(0.8, 0.6, 0.9, 0.7);
  const avg = averageMirrors({ maskLogits, iou, timing: { encoder: 1, decoder: 2 } }, b, n);
  for (let i = 0; i < b; i++) {
    assert.deepEqual(
      avg.maskLogits.subarray(i * plane, (i + 1) * plane),
      images.subarray(i * 3 * plane, i * 3 * plane + plane),
    );
  }
  assert.deepEqual(Array.from(avg.iou).map((v) => +v.toFixed(6)), [0.85, 0.65]);
});

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;

/** A batch of one seeded-noise crop at input size `n` prompted with `box` in `crop`. */
function oneCrop(n: number, box: OrientedBox, seed: number) {
  const r = mulberry32(seed);
  const crop = { x0: 0, y0: 0, size: 100 };
  const images = Float32Array.from({ length: 3 * n * n }, () => 2 * r() - 1);
  const p = promptTokens(box, crop, { inputSize: n });
  return { size: 1, inputSize: n, images, coords: p.coords, labels: p.labels, crop };
}

Deno.test("SopsegModel with tta: a mirrored crop gives the mirrored mask; the small graphs untouched", async () => {
  const box: OrientedBox = { cx: 46, cy: 55, width: 40, height: 14, angle: 0.6 };
  const mirrored: OrientedBox = { ...box, cx: 100 - box.cx, angle: -box.angle };
  const flip = (a: Float32Array, n: number) => {
    const out = new Float32Array(a.length);
    for (let r = 0; r < a.length / n; r++) {
      for (let c = 0; c < n; c++) out[r * n + c] = a[r * n + n - 1 - c]!;
    }
    return out;
  };
  /** Largest gap between the mask of `box` mirrored and the mask of `mirrored`. */
  const asymmetry = async (tta: "off" | "main") => {
    const model = await SopsegModel.load(LITE, { backend: "wasm", threads: 1, tta });
    try {
      const n = model.manifest.inputSize;
      const a = oneCrop(n, box, 5);
      const m = oneCrop(n, mirrored, 5);
      m.images.set(flip(a.images, n));
      const la = (await model.predict(a)).maskLogits;
      const lm = (await model.predict(m)).maskLogits;
      const back = flip(lm, n);
      let gap = 0;
      for (let i = 0; i < n * n; i++) gap = Math.max(gap, Math.abs(back[i]! - la[i]!));
      return gap;
    } finally {
      await model.close();
    }
  };
  const [on, off] = [await asymmetry("main"), await asymmetry("off")];
  // averaging a crop with its mirror makes the answer exactly mirror-symmetric
  assert.ok(on < 1e-3, `tta main: ${on}`);
  assert.ok(
    off > 0.05,
    `without tta the model is not symmetric by itself (${off}), so the test sees tta`,
  );

  // crops on the small graphs do not run mirrored with tta "main"
  const plain = await SopsegModel.load(LITE, { backend: "wasm", threads: 1, tta: "off" });
  const main = await SopsegModel.load(LITE, { backend: "wasm", threads: 1, tta: "main" });
  try {
    const small = plain.manifest.smallGraphs!.inputSize;
    const batch = oneCrop(small, box, 9);
    const x = await plain.predict({ ...batch, images: batch.images.slice() });
    const y = await main.predict({ ...batch, images: batch.images.slice() });
    assert.deepEqual(y.maskLogits, x.maskLogits);
    assert.equal(main.tta, "main");
  } finally {
    await plain.close();
    await main.close();
  }
});
