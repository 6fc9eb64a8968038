/**
 * Arguments of `sopseg eval`: parsing and checking only (no file access).
 *
 * ```
 * sopseg eval --gt annotations.json[.gz] [--images DIR] [--model DIR]
 *   [--baseline hbox-fill|obb-fill] [--classes a,b] [--class-groups name=a+b,...]
 *   [--no-ram] [--box-only] [--no-class-prompt] [--prompt-class-swap gt=prompt,...] [--small-graphs on|off|N] [--prompt-noise shift=0.1,scale=0.1,angle=5,seed=0]
 *   [--image-degrade lowres|blur|jpeg|sensor[,seed=N] | resolution=2,blur=1,...]
 *   [--max-images N] [--dilation-ratio 0.005]
 *   [--out-json FILE] [--out-md FILE] [--out-coco FILE]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BASELINE_KINDS, type BaselineKind } from "../eval/baselines.ts";
import { parseClassGroups } from "../eval/class_map.ts";
import { boxSearchFlag, smallGraphsFlag } from "./common.ts";
import type { BoxSearch } from "../pipeline/segment_image.ts";
import { FLIP_TTA_MODES, type FlipTta } from "../model/flip_tta.ts";
import { ANGLE_CONVENTIONS, type AngleConvention } from "../geometry/oriented_box.ts";
import {
  type DetectionFormat,
  RESULTS_DETECTION_FORMATS,
  type ResultsFormat,
} from "../pipeline/detections_input.ts";
import {
  DEFAULT_PROMPT_NOISE,
  PROMPT_NOISE_PRESETS,
  type PromptNoiseOptions,
} from "../eval/prompt_noise.ts";
import { type ImageDegradeOptions, parseImageDegrade } from "../eval/image_degrade.ts";
import { type KeyRange, parsePresetOrPairs } from "../eval/_option_text.ts";

/** The checked arguments of `sopseg eval`. */
export interface EvalArgs {
  /** COCO ground truth, plain or gzipped JSON. */
  gt: string;
  /** Folder of the images named by the GT's `file_name`; required unless `baseline`. */
  images: string | null;
  /** Model directory for the segmenter; `null` means the default model. */
  model: string | null;
  /** Score a prompt fill instead of the model. */
  baseline: BaselineKind | null;
  /** Classes to score (names as typed, mapped across datasets); empty = all. */
  classes: string[];
  /** Extra class groups. */
  classGroups: Record<string, string[]>;
  /** Ablation: no RAM, a fixed context crop instead. */
  noRam: boolean;
  /** Ablation: box prompt only, no oriented points. */
  boxOnly: boolean;
  /** Ablation: no class prompt (every instance's class unknown to the model). */
  noClassPrompt: boolean;
  /**
   * Ablation: the class the model is told instead of the GT's, by GT class name
   * (`--prompt-class-swap small_vehicle=large_vehicle,...`: a detector's class
   * confusions); scores stay under the GT class. Empty: the GT's class.
   */
  promptClassSwap: Record<string, string>;
  /**
   * Crops that fit on the model's small graphs (`small_graphs`) run there; `undefined`: as
   * the model's manifest says (`small_graphs.default`); a number: on, for the crops up to
   * that many pixels.
   */
  smallGraphs: boolean | number | undefined;
  /** Seeded prompt noise, or `null`. */
  promptNoise: PromptNoiseOptions | null;
  /** Seeded degradation of the images before the model reads them, or `null`. */
  imageDegrade: ImageDegradeOptions | null;
  /** Evaluate only the first N images; `null` = all. */
  maxImages: number | null;
  /** Boundary IoU band as a fraction of the image diagonal. */
  dilationRatio: number;
  /** Where to write the report as JSON, or `null`. */
  outJson: string | null;
  /** Where to write the report as Markdown, or `null`. */
  outMd: string | null;
  /** Where to write the COCO results, or `null`. */
  outCoco: string | null;
  /** `--backend`: auto, wasm or webgpu. */
  backend: string;
  /** `--threads`: WASM threads; null for all cores. */
  threads: number | null;
  /** `--sessions`: WASM sessions; null for one per thread. */
  sessions: number | null;
  /** `--batch`: crops per model call. */
  batch: number;
  /** `--max-per-class`: class-capped subset. */
  maxPerClass: number | null;
  /** `--refine-passes`: passes after the first, prompted with the last mask's box. */
  refinePasses: number;
  /** `--box-search`: the main graphs' boxes also tried shifted, kept by predicted IoU. */
  boxSearch: BoxSearch | null;
  /** `--tta`: crops also run mirrored; `undefined`: the default. */
  tta: FlipTta | undefined;
  /** `--detections`: a detector's output to prompt with instead of the GT boxes, or `null`. */
  detections: EvalDetectionsArgs | null;
}

/** How `--detections` is read and matched. */
export interface EvalDetectionsArgs {
  /** A folder of per-image files (by stem), or a results file or folder (Task1, mmrotate). */
  path: string;
  /** `--detection-format`. */
  format: DetectionFormat | ResultsFormat | "auto";
  /** `--detection-classes`: class names by id (YOLO-OBB, mmrotate `category_id`). */
  classNames: string[] | undefined;
  /** `--angle-convention` of mmrotate's boxes. */
  angleConvention: AngleConvention | undefined;
  /** `--min-score`. */
  minScore: number | undefined;
  /** `--match-iou`: rotated IoU a match needs. */
  iouThreshold: number;
}

/**
 * Parses `key=value,key=value` prompt noise (keys `shift`, `scale`, `angle`,
 * `seed`; missing keys take the defaults; uniform noise), or a preset's name
 * from {@linkcode PROMPT_NOISE_PRESETS}, optionally followed by `,seed=N`. Throws a
 * `TypeError` naming the unknown preset or key, or the value and its allowed range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePromptNoise } from "./eval_args.ts";
 *
 * assert.deepEqual(parsePromptNoise("shift=0.05,seed=7"), {
 *   shift: 0.05, scale: 0.1, angle: 5, seed: 7,
 * });
 * assert.deepEqual(parsePromptNoise("tight1,seed=2"), {
 *   kind: "offset", offset: -0.5, seed: 2, preset: "tight1",
 * });
 * ```
 */
export function parsePromptNoise(text: string): PromptNoiseOptions {
  const { preset, values } = parsePresetOrPairs(text, {
    what: "prompt noise",
    presets: Object.keys(PROMPT_NOISE_PRESETS),
    ranges: NOISE_RANGES,
  });
  const seed = values.seed ?? 0;
  // `default` draws what `key=value` pairs with the defaults draw; named in the report
  if (preset === "default") return { ...DEFAULT_PROMPT_NOISE, seed, preset };
  if (preset !== null) return { ...PROMPT_NOISE_PRESETS[preset], seed, preset };
  return { ...DEFAULT_PROMPT_NOISE, ...values };
}

const NOISE_RANGES: Readonly<Record<"shift" | "scale" | "angle" | "seed", KeyRange>> = {
  shift: { ok: (v) => v >= 0, range: "a number >= 0" },
  scale: { ok: (v) => v >= 0 && v < 1, range: "a number in [0, 1)" },
  angle: { ok: (v) => v >= 0, range: "a number >= 0" },
  seed: { ok: Number.isInteger, range: "an integer" },
};

/**
 * Parses and checks the arguments of `sopseg eval` (without the subcommand).
 * Throws `TypeError` for unknown or missing flags and `RangeError` /
 * `SyntaxError` for bad values, with "Cannot ..." messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvalArgs } from "./eval_args.ts";
 *
 * const a = parseEvalArgs(["--gt", "val.json.gz", "--baseline", "obb-fill", "--classes", "plane,ship"]);
 * assert.equal(a.baseline, "obb-fill");
 * assert.deepEqual(a.classes, ["plane", "ship"]);
 * ```
 */
function positiveInt(name: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot parse eval arguments: --${name} ${value} is not an integer >= 1`);
  }
  return n;
}

export function parseEvalArgs(args: readonly string[]): EvalArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        gt: { type: "string" },
        images: { type: "string" },
        model: { type: "string" },
        baseline: { type: "string" },
        classes: { type: "string" },
        "class-groups": { type: "string" },
        "no-ram": { type: "boolean" },
        "box-only": { type: "boolean" },
        "no-class-prompt": { type: "boolean" },
        "prompt-class-swap": { type: "string" },
        "small-graphs": { type: "string" },
        "prompt-noise": { type: "string" },
        "image-degrade": { type: "string" },
        "max-images": { type: "string" },
        "dilation-ratio": { type: "string" },
        "out-json": { type: "string" },
        "out-md": { type: "string" },
        "out-coco": { type: "string" },
        backend: { type: "string" },
        threads: { type: "string" },
        sessions: { type: "string" },
        batch: { type: "string" },
        "max-per-class": { type: "string" },
        "refine-passes": { type: "string" },
        "box-search": { type: "string" },
        tta: { type: "string" },
        detections: { type: "string" },
        "detection-format": { type: "string" },
        "detection-classes": { type: "string" },
        "angle-convention": { type: "string" },
        "min-score": { type: "string" },
        "match-iou": { type: "string" },
      },
    });
  } catch (e) {
    throw new TypeError(`Cannot parse eval arguments: ${(e as Error).message}`);
  }
  const v = parsed.values;
  if (v.gt === undefined) throw new TypeError("Cannot parse eval arguments: --gt is required");
  let baseline: BaselineKind | null = null;
  if (v.baseline !== undefined) {
    if (!(BASELINE_KINDS as readonly string[]).includes(v.baseline)) {
      throw new RangeError(
        `Cannot parse eval arguments: unknown baseline "${v.baseline}" (baselines: ${
          BASELINE_KINDS.join(", ")
        })`,
      );
    }
    baseline = v.baseline as BaselineKind;
  }
  if (baseline === null && v.images === undefined) {
    throw new TypeError(
      "Cannot parse eval arguments: --images is required unless --baseline is given",
    );
  }
  if (
    baseline !== null &&
    (v["no-ram"] || v["box-only"] || v["no-class-prompt"] || v["small-graphs"] !== undefined ||
      v["refine-passes"] !== undefined || v.tta !== undefined || v["box-search"] !== undefined ||
      v["prompt-class-swap"] !== undefined || v.model !== undefined)
  ) {
    throw new TypeError(
      "Cannot parse eval arguments: --no-ram, --box-only, --no-class-prompt, --prompt-class-swap, --small-graphs, --refine-passes, --box-search, --tta and --model need the model, not --baseline",
    );
  }
  if (baseline !== null && v["image-degrade"] !== undefined) {
    throw new TypeError(
      `Cannot parse eval arguments: --image-degrade changes the pixels the model reads; --baseline ${baseline} reads none`,
    );
  }
  if (v["no-class-prompt"] && v["prompt-class-swap"] !== undefined) {
    throw new TypeError(
      "Cannot parse eval arguments: --prompt-class-swap tells the model other classes; --no-class-prompt tells it none",
    );
  }
  let maxImages: number | null = null;
  if (v["max-images"] !== undefined) {
    maxImages = Number(v["max-images"]);
    if (!Number.isInteger(maxImages) || maxImages < 1) {
      throw new RangeError(
        `Cannot parse eval arguments: --max-images ${v["max-images"]} is not an integer >= 1`,
      );
    }
  }
  const detections = parseDetectionsArgs(v);
  const dilationRatio = v["dilation-ratio"] === undefined ? 0.005 : Number(v["dilation-ratio"]);
  if (!Number.isFinite(dilationRatio) || dilationRatio < 0) {
    throw new RangeError(
      `Cannot parse eval arguments: --dilation-ratio ${v["dilation-ratio"]} is not a number >= 0`,
    );
  }
  if (v.classes !== undefined && v.classes.split(",").every((c) => c.trim() === "")) {
    throw new RangeError(
      "Cannot parse eval arguments: --classes names no class (give names, e.g. plane,ship, or " +
        "leave it out to score every class)",
    );
  }
  const classes = (v.classes ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const classGroups = v["class-groups"] === undefined ? {} : parseClassGroups(v["class-groups"]);
  const unnamed = Object.keys(classGroups).filter((g) => !classes.includes(g));
  if (unnamed.length > 0) {
    // a group is a row only where --classes names it: said rather than left out silently
    throw new RangeError(
      `Cannot parse eval arguments: --class-groups defines ${unnamed.join(", ")}, which ` +
        `--classes does not name: a group is scored as a row of --classes (e.g. --classes ` +
        `${[...unnamed, ...classes].join(",")})`,
    );
  }
  return {
    gt: v.gt,
    images: v.images ?? null,
    model: v.model ?? null,
    baseline,
    classes,
    classGroups,
    noRam: v["no-ram"] ?? false,
    boxOnly: v["box-only"] ?? false,
    noClassPrompt: v["no-class-prompt"] ?? false,
    promptClassSwap: v["prompt-class-swap"] === undefined
      ? {}
      : parseClassSwap(v["prompt-class-swap"]),
    smallGraphs: parseSmallGraphs(v["small-graphs"]),
    promptNoise: v["prompt-noise"] === undefined ? null : parsePromptNoise(v["prompt-noise"]),
    imageDegrade: v["image-degrade"] === undefined ? null : parseImageDegrade(v["image-degrade"]),
    maxImages,
    dilationRatio,
    outJson: v["out-json"] ?? null,
    outMd: v["out-md"] ?? null,
    outCoco: v["out-coco"] ?? null,
    backend: v.backend ?? "auto",
    threads: positiveInt("threads", v.threads),
    sessions: positiveInt("sessions", v.sessions),
    batch: positiveInt("batch", v.batch) ?? 8,
    maxPerClass: positiveInt("max-per-class", v["max-per-class"]),
    refinePasses: positiveInt("refine-passes", v["refine-passes"]) ?? 0,
    boxSearch: boxSearchFlag(v["box-search"]) ?? null,
    tta: parseTta(v.tta),
    detections,
  };
}

/** `a=b,c=d` -> `{ a: "b", c: "d" }`, each GT class named once. */
function parseClassSwap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const [from, to, ...rest] = pair.split("=").map((s) => s.trim());
    if (!from || !to || rest.length) {
      throw new TypeError(
        `Cannot parse eval arguments: --prompt-class-swap wants gt_class=prompt_class pairs separated by commas, got "${pair}"`,
      );
    }
    if (from in out) {
      throw new TypeError(`Cannot parse eval arguments: --prompt-class-swap names ${from} twice`);
    }
    out[from] = to;
  }
  return out;
}

function parseDetectionsArgs(v: Record<string, string | boolean | undefined>) {
  const what = "Cannot parse eval arguments";
  const path = v.detections as string | undefined;
  const others = [
    "detection-format",
    "detection-classes",
    "angle-convention",
    "min-score",
    "match-iou",
  ]
    .filter((k) => v[k] !== undefined);
  if (path === undefined) {
    if (others.length) throw new TypeError(`${what}: --${others[0]} needs --detections`);
    return null;
  }
  for (const k of ["prompt-noise", "max-per-class", "refine-passes"]) {
    if (v[k] !== undefined) {
      throw new TypeError(
        `${what}: --${k} does not go with --detections (the detector's boxes are the prompts, matched to every instance)`,
      );
    }
  }
  const number = (k: string, ok: (x: number) => boolean, range: string) => {
    if (v[k] === undefined) return undefined;
    const x = Number(v[k]);
    if (!Number.isFinite(x) || !ok(x)) {
      throw new RangeError(`${what}: --${k} ${v[k]} is not a number ${range}`);
    }
    return x;
  };
  const format = (v["detection-format"] as string | undefined) ?? "auto";
  if (!(RESULTS_DETECTION_FORMATS as readonly string[]).includes(format)) {
    throw new RangeError(
      `${what}: --detection-format ${format} is not one of ${RESULTS_DETECTION_FORMATS.join(", ")}`,
    );
  }
  const convention = v["angle-convention"] as string | undefined;
  if (convention !== undefined && !(ANGLE_CONVENTIONS as readonly string[]).includes(convention)) {
    throw new RangeError(
      `${what}: --angle-convention ${convention} is not one of ${ANGLE_CONVENTIONS.join(", ")}`,
    );
  }
  const classes = v["detection-classes"] as string | undefined;
  return {
    path,
    format: format as DetectionFormat | ResultsFormat | "auto",
    classNames: classes === undefined ? undefined : classes.split(",").map((c) => c.trim()),
    angleConvention: convention as AngleConvention | undefined,
    minScore: number("min-score", () => true, ""),
    iouThreshold: number("match-iou", (x) => x > 0 && x <= 1, "in (0, 1]") ?? 0.5,
  };
}

function parseTta(v: string | undefined): FlipTta | undefined {
  if (v === undefined || (FLIP_TTA_MODES as readonly string[]).includes(v)) {
    return v as FlipTta | undefined;
  }
  throw new RangeError(
    `Cannot parse eval arguments: --tta must be one of ${FLIP_TTA_MODES.join(", ")}, got "${v}"`,
  );
}

function parseSmallGraphs(v: string | undefined): boolean | number | undefined {
  try {
    return smallGraphsFlag("small-graphs", v);
  } catch (e) {
    throw new TypeError(`Cannot parse eval arguments: ${(e as Error).message}`);
  }
}
