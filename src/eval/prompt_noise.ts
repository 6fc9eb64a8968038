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

import { boxCorners, type OrientedBox } from "../geometry/oriented_box.ts";
import { minAreaRect } from "../geometry/min_area_rect.ts";

export { mulberry32 } from "../random.ts";
import { mixSeed, mulberry32 } from "../random.ts";

/**
 * How a box is perturbed:
 * - `uniform`: centre shift `U(-shift, shift)` times the side on each box axis, width and height
 *   times `1 + U(-scale, scale)`, rotation `U(-angle, angle)` degrees;
 * - `gaussian`: centre shift `N(0, shift)` times the box's long side on each axis, width and
 *   height times `1 + U(-scale, scale)`, rotation `N(0, angle)` degrees (heavier tails:
 *   what a detector's worst boxes look like);
 * - `offset`: every side moved outwards by `offset` pixels (negative: inwards), no randomness
 *   (a label convention half a pixel off per side is `offset: +-0.5`);
 * - `corners`: each corner moved on its own by `N(0, corner)` times the long side on each image
 *   axis, then the minimum-area rectangle of the four (a detector's quadrilateral output).
 */
export type PromptNoiseKind = "uniform" | "gaussian" | "offset" | "corners";

/** Noise kind and amplitudes. */
export interface PromptNoiseOptions {
  /** The kind of noise. Default: `"uniform"`. */
  kind?: PromptNoiseKind;
  /** Centre shift, as a fraction of a side (see {@linkcode PromptNoiseKind}). Default: `0.1`. */
  shift?: number;
  /** Relative change of width and height (independently), e.g. `0.1` = up to +-10 %. Default: `0.1`. */
  scale?: number;
  /** Rotation in degrees (half-width or sigma). Default: `5`. */
  angle?: number;
  /** `offset` kind: pixels each side moves outwards. Default: `0`. */
  offset?: number;
  /** `corners` kind: sigma of each corner's move, as a fraction of the long side. Default: `0`. */
  corner?: number;
  /** Seed. Default: `0`. */
  seed?: number;
  /** The preset's name, when the options come from {@linkcode PROMPT_NOISE_PRESETS}. */
  preset?: string;
}

/**
 * Named noise presets of `deno task eval --prompt-noise NAME`, each seeded (`NAME,seed=N`).
 * `corners` is held out: the training code never draws quadrilateral corner noise, so it
 * measures robustness to an error the model was not shown.
 */
export const PROMPT_NOISE_PRESETS: Readonly<Record<string, PromptNoiseOptions>> = {
  default: { kind: "uniform", shift: 0.1, scale: 0.1, angle: 5 },
  heavy: { kind: "gaussian", shift: 0.08, scale: 0.15, angle: 4 },
  tight1: { kind: "offset", offset: -0.5 },
  loose1: { kind: "offset", offset: 0.5 },
  corners: { kind: "corners", corner: 0.04 },
};

/** The defaults of {@linkcode PromptNoiseOptions}. */
export const DEFAULT_PROMPT_NOISE: Required<
  Pick<PromptNoiseOptions, "shift" | "scale" | "angle" | "seed">
> = {
  shift: 0.1,
  scale: 0.1,
  angle: 5,
  seed: 0,
};

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
  const kind = options.kind ?? "uniform";
  const { shift, scale, angle, seed } = { ...DEFAULT_PROMPT_NOISE, ...options };
  const offset = options.offset ?? 0;
  const corner = options.corner ?? 0;
  for (
    const [name, v] of [["shift", shift], ["scale", scale], ["angle", angle], [
      "corner",
      corner,
    ]] as const
  ) {
    if (!Number.isFinite(v) || v < 0) {
      throw new RangeError(`Cannot add prompt noise: ${name} ${v} is not a finite number >= 0`);
    }
  }
  if (!Number.isFinite(offset)) {
    throw new RangeError(`Cannot add prompt noise: offset ${offset} is not a finite number`);
  }
  if (scale >= 1) throw new RangeError(`Cannot add prompt noise: scale ${scale} is not below 1`);
  if (kind === "offset") {
    return {
      ...box,
      width: Math.max(1, box.width + 2 * offset),
      height: Math.max(1, box.height + 2 * offset),
    };
  }
  const rng = mulberry32(mixSeed(seed, key));
  const u = () => 2 * rng() - 1;
  // Box-Muller: one standard normal draw from two uniforms in (0, 1].
  const n = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const long = Math.max(box.width, box.height);
  if (kind === "corners") {
    if (corner === 0) return { ...box };
    const moved = boxCorners(box).map((p) => ({
      x: p.x + n() * corner * long,
      y: p.y + n() * corner * long,
    }));
    const r = minAreaRect(moved);
    return { ...r, width: Math.max(1, r.width), height: Math.max(1, r.height) };
  }
  if (kind !== "uniform" && kind !== "gaussian") {
    throw new RangeError(
      `Cannot add prompt noise: unknown kind "${kind}" (kinds: uniform, gaussian, offset, corners)`,
    );
  }
  const gaussian = kind === "gaussian";
  const du = gaussian ? n() * shift * long : u() * shift * box.width;
  const dv = gaussian ? n() * shift * long : u() * shift * box.height;
  const sw = 1 + u() * scale;
  const sh = 1 + u() * scale;
  const da = (gaussian ? n() : u()) * angle * Math.PI / 180;
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
