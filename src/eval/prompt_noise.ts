/**
 * Seeded noise on oriented-box prompts, to measure how a model holds up when
 * the detector's box is a few pixels or degrees off (METHOD.md section 6).
 *
 * Each box gets its own generator seeded from `(seed, key)` (the key is the
 * GT annotation id in the evaluation), so a box's noise does not depend on
 * which other instances are evaluated or in what order.
 *
 * @module
 */

import type { OrientedBox } from "../geometry/oriented_box.ts";

export { mulberry32 } from "../random.ts";
import { mulberry32 } from "../random.ts";

/** Noise amplitudes; each draw is uniform in `[-a, a]`. */
export interface PromptNoiseOptions {
  /** Centre shift along each box axis, as a fraction of the box side on that axis. Default: `0.1`. */
  shift?: number;
  /** Relative change of width and height (independently), e.g. `0.1` = up to +-10 %. Default: `0.1`. */
  scale?: number;
  /** Rotation in degrees. Default: `5`. */
  angle?: number;
  /** Seed. Default: `0`. */
  seed?: number;
}

/** The defaults of {@linkcode PromptNoiseOptions}. */
export const DEFAULT_PROMPT_NOISE: Required<PromptNoiseOptions> = {
  shift: 0.1,
  scale: 0.1,
  angle: 5,
  seed: 0,
};

/** Mixes a seed and a key into one 32-bit seed (murmur3 finaliser). */
function mixSeed(seed: number, key: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (key >>> 0) ^ Math.floor(key / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Wraps an angle into `[-pi/2, pi/2)`. */
function normalizeAngle(a: number): number {
  let r = (a + Math.PI / 2) % Math.PI;
  if (r < 0) r += Math.PI;
  const out = r - Math.PI / 2;
  return out >= Math.PI / 2 ? -Math.PI / 2 : out;
}

/**
 * The box with seeded noise: centre shifted along the box axes by up to
 * `shift` times the side, width and height scaled by up to `1 +- scale`,
 * rotated by up to `angle` degrees. The same `(options.seed, key)` gives the
 * same box. Widths and heights stay at least 1 pixel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perturbBox } from "./prompt_noise.ts";
 *
 * const box = { cx: 50, cy: 50, width: 20, height: 10, angle: 0 };
 * const a = perturbBox(box, 7, { seed: 1 });
 * assert.deepEqual(a, perturbBox(box, 7, { seed: 1 }));
 * assert.ok(Math.abs(a.cx - 50) <= 2 && Math.abs(a.width - 20) <= 2);
 * assert.deepEqual(perturbBox(box, 7, { shift: 0, scale: 0, angle: 0 }), box);
 * ```
 */
export function perturbBox(
  box: OrientedBox,
  key: number,
  options: PromptNoiseOptions = {},
): OrientedBox {
  const { shift, scale, angle, seed } = { ...DEFAULT_PROMPT_NOISE, ...options };
  for (const [name, v] of [["shift", shift], ["scale", scale], ["angle", angle]] as const) {
    if (!Number.isFinite(v) || v < 0) {
      throw new RangeError(`Cannot add prompt noise: ${name} ${v} is not a finite number >= 0`);
    }
  }
  if (scale >= 1) throw new RangeError(`Cannot add prompt noise: scale ${scale} is not below 1`);
  const rng = mulberry32(mixSeed(seed, key));
  const u = () => 2 * rng() - 1;
  const du = u() * shift * box.width;
  const dv = u() * shift * box.height;
  const sw = 1 + u() * scale;
  const sh = 1 + u() * scale;
  const da = u() * angle * Math.PI / 180;
  if (shift === 0 && scale === 0 && angle === 0) return { ...box };
  const c = Math.cos(box.angle), s = Math.sin(box.angle);
  return {
    cx: box.cx + du * c - dv * s,
    cy: box.cy + du * s + dv * c,
    width: Math.max(1, box.width * sw),
    height: Math.max(1, box.height * sh),
    angle: normalizeAngle(box.angle + da),
  };
}
