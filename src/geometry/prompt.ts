/**
 * The decoder's prompt tensors for one object (docs/CONTRACT.md, "Prompt
 * tensors"): always five tokens, in the model frame.
 *
 * @module
 */

import { pixelToModel } from "./frames.ts";
import { opmPoints } from "./opm.ts";
import { enclosingHBox, type OrientedBox } from "./oriented_box.ts";
import type { Crop } from "./ram.ts";

/** Which tokens a prompt carries. */
export type PromptMode = "opm" | "box" | "points";

/** Options for {@linkcode promptTokens}. */
export interface PromptTokensOptions {
  /** Side of the square model input. @default {256} */
  inputSize?: number;
  /**
   * `"opm"`: the three OPM points and the enclosing horizontal box;
   * `"box"`: the horizontal box only (rows 0-2 missing);
   * `"points"`: the three points only (rows 3-4 missing).
   * @default {"opm"}
   */
  mode?: PromptMode;
}

/** Prompt tensors of one object. */
export interface PromptTokens {
  /** `float32[5,2]`: model-frame continuous coordinates, `(x, y)` per token. */
  coords: Float32Array;
  /** `float32[5]`: 1 foreground point, 2 / 3 box corners, -1 missing token. */
  labels: Float32Array;
}

/** Number of prompt tokens per object. */
export const NUM_PROMPT_TOKENS = 5;

/**
 * Builds the five prompt tokens of an oriented box for a crop: `P1`, `C`,
 * `P2` (label 1), the top-left (label 2) and bottom-right (label 3) of the
 * horizontal box enclosing the oriented box. Missing tokens have label -1 and
 * coordinates (0, 0).
 *
 * @example Usage
 * ```ts
 * import { promptTokens } from "./prompt.ts";
 * import assert from "node:assert/strict";
 *
 * const box = { cx: 116, cy: 216, width: 16, height: 8, angle: 0 };
 * const crop = { x0: 100, y0: 200, size: 32 }; // model scale 8
 * const { coords, labels } = promptTokens(box, crop);
 * assert.deepEqual(Array.from(labels), [1, 1, 1, 2, 3]);
 * assert.deepEqual(Array.from(coords), [96, 128, 128, 128, 160, 128, 64, 96, 192, 160]);
 * ```
 *
 * @param box The oriented box in the pixel frame.
 * @param crop The crop the model sees.
 * @param options Input size and prompt mode.
 * @returns `coords` `float32[5,2]` and `labels` `float32[5]`.
 */
export function promptTokens(
  box: OrientedBox,
  crop: Crop,
  options: PromptTokensOptions = {},
): PromptTokens {
  const { inputSize = 256, mode = "opm" } = options;
  if (mode !== "opm" && mode !== "box" && mode !== "points") {
    throw new TypeError(
      `Cannot build prompt tokens: unknown mode "${
        String(mode)
      }", expected one of opm, box, points`,
    );
  }
  const coords = new Float32Array(NUM_PROMPT_TOKENS * 2);
  const labels = new Float32Array(NUM_PROMPT_TOKENS).fill(-1);
  const frame = { inputSize };
  if (mode !== "box") {
    const { p1, c, p2 } = opmPoints(box);
    [p1, c, p2].forEach((p, i) => {
      const q = pixelToModel(p, crop, frame);
      coords[2 * i] = q.x;
      coords[2 * i + 1] = q.y;
      labels[i] = 1;
    });
  }
  if (mode !== "points") {
    const h = enclosingHBox(box);
    const tl = pixelToModel({ x: h.x0, y: h.y0 }, crop, frame);
    const br = pixelToModel({ x: h.x1, y: h.y1 }, crop, frame);
    coords.set([tl.x, tl.y, br.x, br.y], 6);
    labels[3] = 2;
    labels[4] = 3;
  }
  return { coords, labels };
}
