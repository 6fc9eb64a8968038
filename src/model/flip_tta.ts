/**
 * Test-time augmentation by mirroring: each crop also runs mirrored left to
 * right, with its prompt mirrored as the pipeline would have built it for the
 * mirrored object, and the two mask logit maps (the mirrored one mirrored
 * back) are averaged. The same weights, twice the model calls for the crops it
 * is applied to.
 *
 * @module
 */
import type { BatchPrediction, PromptBatch } from "./sopseg_model.ts";

/** Which crops run mirrored too: none, those on the main graphs, or all. */
export type FlipTta = "off" | "main" | "all";

/** The default of `SopsegModel.load`'s `tta` (and of every command's `--tta`). */
export const DEFAULT_FLIP_TTA: FlipTta = "off";

/** Every {@linkcode FlipTta} value. */
export const FLIP_TTA_MODES: readonly FlipTta[] = ["off", "main", "all"];

/** Tolerance of the OPM points' x tie (docs/CONTRACT.md; geometry/opm.ts). */
const TIE = 1e-6;

/**
 * The prompt tokens of the mirrored object (`x -> n - x` in the model frame) in
 * the pipeline's order: the OPM points `P1`, `C`, `P2` with `P1` the one of
 * smaller x (so the mirrored `P2` becomes `P1`, unless the axis is vertical and
 * `y` orders them), and the box's top-left and bottom-right corners. Missing
 * tokens (label -1) stay as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mirrorPrompt } from "./flip_tta.ts";
 *
 * const coords = Float32Array.of(10, 20, 14, 22, 18, 24, 8, 18, 20, 26);
 * const labels = Float32Array.of(1, 1, 1, 2, 3);
 * assert.deepEqual(
 *   Array.from(mirrorPrompt(coords, labels, 32)),
 *   [14, 24, 18, 22, 22, 20, 12, 18, 24, 26],
 * );
 * ```
 */
export function mirrorPrompt(coords: Float32Array, labels: Float32Array, n: number): Float32Array {
  const out = new Float32Array(10);
  const x = (k: number) => coords[2 * k]!, y = (k: number) => coords[2 * k + 1]!;
  const set = (k: number, px: number, py: number) => {
    out[2 * k] = px;
    out[2 * k + 1] = py;
  };
  if (labels[0] !== -1) {
    const dx = x(2) - x(0), dy = y(2) - y(0);
    const tie = Math.abs(dx) <= TIE * Math.hypot(dx, dy);
    const [a, b] = tie ? [0, 2] : [2, 0];
    set(0, n - x(a), y(a));
    set(1, n - x(1), y(1));
    set(2, n - x(b), y(b));
  }
  if (labels[3] !== -1) {
    set(3, n - x(4), y(3));
    set(4, n - x(3), y(4));
  }
  return out;
}

/**
 * The batch twice over: the crops as given, then each mirrored (rows reversed)
 * with its prompt mirrored ({@linkcode mirrorPrompt}).
 */
export function withMirrors(batch: PromptBatch, n: number): PromptBatch {
  const b = batch.size, plane = n * n, crop = 3 * plane;
  const images = new Float32Array(2 * b * crop);
  images.set(batch.images.subarray(0, b * crop));
  for (let i = 0; i < b; i++) {
    const src = i * crop, dst = (b + i) * crop;
    for (let r = 0; r < 3 * n; r++) {
      const s = src + r * n, d = dst + r * n;
      for (let c = 0; c < n; c++) images[d + c] = batch.images[s + n - 1 - c]!;
    }
  }
  const coords = new Float32Array(2 * b * 10);
  coords.set(batch.coords.subarray(0, b * 10));
  const labels = new Float32Array(2 * b * 5);
  labels.set(batch.labels.subarray(0, b * 5));
  labels.set(batch.labels.subarray(0, b * 5), b * 5);
  for (let i = 0; i < b; i++) {
    const l = batch.labels.subarray(i * 5, i * 5 + 5);
    coords.set(mirrorPrompt(batch.coords.subarray(i * 10, i * 10 + 10), l, n), (b + i) * 10);
  }
  let classes: Int32Array | undefined;
  if (batch.classes) {
    classes = new Int32Array(2 * b);
    classes.set(batch.classes.subarray(0, b));
    classes.set(batch.classes.subarray(0, b), b);
  }
  return { size: 2 * b, inputSize: batch.inputSize, images, coords, labels, classes };
}

/**
 * The prediction for the original `b` crops from that of {@linkcode withMirrors}'s
 * batch: each crop's logits averaged with its mirror's logits mirrored back, and
 * the two predicted IoUs averaged.
 */
export function averageMirrors(out: BatchPrediction, b: number, n: number): BatchPrediction {
  const plane = n * n;
  const maskLogits = new Float32Array(b * plane);
  const iou = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const a = i * plane, m = (b + i) * plane;
    for (let r = 0; r < n; r++) {
      const row = r * n;
      for (let c = 0; c < n; c++) {
        maskLogits[a + row + c] = (out.maskLogits[a + row + c]! +
          out.maskLogits[m + row + n - 1 - c]!) / 2;
      }
    }
    iou[i] = (out.iou[i]! + out.iou[b + i]!) / 2;
  }
  return { maskLogits, iou, timing: out.timing };
}
