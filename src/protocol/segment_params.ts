/**
 * The params of `segment`, checked field by field: every problem is a -32602
 * error whose message and `data.field` name the field (e.g.
 * `detections.boxes[2].corners[1]`).
 *
 * @module
 */
import type { Detection } from "../formats/detection.ts";
import {
  ANGLE_CONVENTIONS,
  type AngleConvention,
  orientedBoxFromCorners,
  type Point,
} from "../geometry/oriented_box.ts";
import type { PromptMode } from "../geometry/prompt.ts";
import { shown } from "../formats/_parse.ts";
import {
  type DetectionFormat,
  RESULTS_DETECTION_FORMATS,
  type ResultsFormat,
} from "../pipeline/detections_input.ts";
import type { DetectionsReading } from "../pipeline/segment_detections.ts";
import { InputError } from "../pipeline/input_error.ts";
import { BOX_SEARCH_ON, type BoxSearch, boxSearchProblem } from "../pipeline/segment_image.ts";
import { RpcError } from "./errors.ts";

/** Prompt modes of `options.prompt`. */
export const PROMPT_MODES: readonly PromptMode[] = ["opm", "box", "points"];

/** The keys `options` of a `segment` request may have. */
export const SEGMENT_OPTION_KEYS = [
  "prompt",
  "simplify",
  "all_components",
  "class_prompt",
  "bands",
  "batch",
  "box_search",
] as const;

/** The options of a `segment` request, defaults filled in. */
export interface SegmentRequestOptions {
  /** `opm` (default), `box` or `points`. */
  prompt: PromptMode;
  /** Polygon simplification tolerance in pixels. Default: 0. */
  simplify: number;
  /** Keep every mask component, not only those under the box. Default: false. */
  allComponents: boolean;
  /** Give the model each detection's class (its class prompt). Default: true. */
  classPrompt: boolean;
  /** 1-based bands read as RGB. Default: those a GeoTIFF tags red, green, blue, else the first three. */
  bands: number[] | undefined;
  /** Crops per model call. Default: the server's `--batch`. */
  batch: number | undefined;
  /** The box search (`--box-search`); `undefined`: off. Default: off. */
  boxSearch: BoxSearch | undefined;
}

/** Where a request's detections come from. */
export type SegmentRequestDetections =
  | { kind: "boxes"; detections: Detection[] }
  | ({ kind: "text"; text: string } & DetectionsReading)
  | ({ kind: "path"; path: string } & DetectionsReading);

/** Checked params of `segment`. */
export interface SegmentRequest {
  /** The image path, as given. */
  image: string;
  /** The detections. */
  detections: SegmentRequestDetections;
  /** Options with defaults. */
  options: SegmentRequestOptions;
  /** Where to write the FeatureCollection, or null to return it. */
  out: string | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, field: string, keys: readonly string[]) {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) {
      const where = field ? `${field}.${k}` : k;
      throw RpcError.invalidParams(where, `is not a known field (known: ${keys.join(", ")})`);
    }
  }
}

function str(v: unknown, field: string): string {
  if (v === undefined) throw RpcError.invalidParams(field, "is missing");
  if (typeof v !== "string" || v === "") {
    throw RpcError.invalidParams(field, `must be a non-empty string, got ${shown(v)}`);
  }
  return v;
}

function finite(v: unknown, field: string): number {
  if (v === undefined) throw RpcError.invalidParams(field, "is missing");
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw RpcError.invalidParams(field, `must be a number, got ${shown(v)}`);
  }
  return v;
}

function format(v: unknown, field: string): DetectionFormat | ResultsFormat | "auto" {
  if (v === undefined) return "auto";
  if (typeof v === "string" && (RESULTS_DETECTION_FORMATS as readonly string[]).includes(v)) {
    return v as DetectionFormat | ResultsFormat | "auto";
  }
  throw RpcError.invalidParams(
    field,
    `must be one of ${RESULTS_DETECTION_FORMATS.join(", ")}, got ${shown(v)}`,
  );
}

function angleConvention(v: unknown, field: string): AngleConvention | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string" && (ANGLE_CONVENTIONS as readonly string[]).includes(v)) {
    return v as AngleConvention;
  }
  throw RpcError.invalidParams(
    field,
    `must be one of ${ANGLE_CONVENTIONS.join(", ")}, got ${shown(v)}`,
  );
}

function classes(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw RpcError.invalidParams(field, "must be an array of strings");
  return v.map((c, i) => str(c, `${field}[${i}]`));
}

function box(v: unknown, index: number): Detection {
  const field = `detections.boxes[${index}]`;
  if (!isRecord(v)) throw RpcError.invalidParams(field, "must be an object with corners");
  onlyKeys(v, field, ["corners", "class", "score"]);
  const c = v.corners;
  if (!Array.isArray(c) || c.length !== 4) {
    throw RpcError.invalidParams(`${field}.corners`, "must be 4 points [[x, y], ...]");
  }
  const corners = c.map((p, i): Point => {
    const f = `${field}.corners[${i}]`;
    if (!Array.isArray(p) || p.length !== 2) throw RpcError.invalidParams(f, "must be [x, y]");
    return { x: finite(p[0], `${f}[0]`), y: finite(p[1], `${f}[1]`) };
  }) as [Point, Point, Point, Point];
  const className = v.class === undefined ? "object" : str(v.class, `${field}.class`);
  const score = v.score === undefined || v.score === null
    ? null
    : finite(v.score, `${field}.score`);
  let oriented;
  try {
    oriented = orientedBoxFromCorners(corners);
  } catch (e) {
    const why = (e as Error).message.replace(/^Cannot [^:]*: /, "");
    const message = `degenerate box: ${why}`;
    throw new InputError("detections-malformed", `Cannot read ${field}: ${message}`, {
      issues: [{ source: field, line: 0, message }],
      cause: e,
    });
  }
  return { box: oriented, className, score, difficult: false, source: field, line: 0, corners };
}

function detections(v: unknown): SegmentRequestDetections {
  const field = "detections";
  if (!isRecord(v)) {
    throw RpcError.invalidParams(field, "must be an object with boxes, text or path");
  }
  const given = ["boxes", "text", "path"].filter((k) => k in v);
  if (given.length !== 1) {
    throw RpcError.invalidParams(
      field,
      `must have exactly one of boxes, text, path (got ${
        given.length ? given.join(", ") : "none"
      })`,
    );
  }
  if ("boxes" in v) {
    onlyKeys(v, field, ["boxes"]);
    if (!Array.isArray(v.boxes)) throw RpcError.invalidParams(`${field}.boxes`, "must be an array");
    return { kind: "boxes", detections: v.boxes.map(box) };
  }
  onlyKeys(v, field, ["text", "path", ...READING_KEYS]);
  const reading: DetectionsReading = {
    format: format(v.format, `${field}.format`),
    classNames: classes(v.classes, `${field}.classes`),
  };
  if (v.image_id !== undefined) reading.imageId = str(v.image_id, `${field}.image_id`);
  const convention = angleConvention(v.angle_convention, `${field}.angle_convention`);
  if (convention !== undefined) reading.angleConvention = convention;
  if (v.min_score !== undefined) reading.minScore = finite(v.min_score, `${field}.min_score`);
  if ("text" in v) {
    if (typeof v.text !== "string") {
      throw RpcError.invalidParams(`${field}.text`, "must be a string");
    }
    if (reading.format === "task1") {
      throw RpcError.invalidParams(
        `${field}.format`,
        "task1 is read from a path (a Task1_<class>.txt file or a folder of them), not from text",
      );
    }
    return { kind: "text", text: v.text, ...reading };
  }
  return { kind: "path", path: str(v.path, `${field}.path`), ...reading };
}

/** The keys of the `text` and `path` forms of `detections` besides `text` / `path`. */
const READING_KEYS = ["format", "classes", "image_id", "angle_convention", "min_score"];

function positiveInt(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw RpcError.invalidParams(field, `must be a positive integer, got ${shown(v)}`);
  }
  return v;
}

/** `options.box_search`: `false`, `true` (`--box-search on`) or `{"shift": S, "margin": M}`. */
function boxSearch(v: unknown): BoxSearch | undefined {
  if (v === false) return undefined;
  if (v === true) return { ...BOX_SEARCH_ON };
  const what = 'must be true, false or {"shift": S, "margin": M}';
  if (!isRecord(v)) throw RpcError.invalidParams("options.box_search", `${what}, got ${shown(v)}`);
  onlyKeys(v, "options.box_search", ["shift", "margin"]);
  const search = {
    shift: finite(v.shift, "options.box_search.shift"),
    margin: finite(v.margin, "options.box_search.margin"),
  };
  const problem = boxSearchProblem(search);
  if (problem) throw RpcError.invalidParams(`options.box_search.${problem.field}`, problem.message);
  return search;
}

function options(v: unknown): SegmentRequestOptions {
  const out: SegmentRequestOptions = {
    prompt: "opm",
    simplify: 0,
    allComponents: false,
    classPrompt: true,
    bands: undefined,
    batch: undefined,
    boxSearch: undefined,
  };
  if (v === undefined) return out;
  if (!isRecord(v)) throw RpcError.invalidParams("options", "must be an object");
  onlyKeys(v, "options", SEGMENT_OPTION_KEYS);
  if (v.prompt !== undefined) {
    if (!(PROMPT_MODES as readonly unknown[]).includes(v.prompt)) {
      throw RpcError.invalidParams(
        "options.prompt",
        `must be one of ${PROMPT_MODES.join(", ")}, got ${shown(v.prompt)}`,
      );
    }
    out.prompt = v.prompt as PromptMode;
  }
  if (v.simplify !== undefined) {
    out.simplify = finite(v.simplify, "options.simplify");
    if (out.simplify < 0) throw RpcError.invalidParams("options.simplify", "must be >= 0");
  }
  if (v.all_components !== undefined) {
    if (typeof v.all_components !== "boolean") {
      throw RpcError.invalidParams("options.all_components", "must be true or false");
    }
    out.allComponents = v.all_components;
  }
  if (v.class_prompt !== undefined) {
    if (typeof v.class_prompt !== "boolean") {
      throw RpcError.invalidParams("options.class_prompt", "must be true or false");
    }
    out.classPrompt = v.class_prompt;
  }
  if (v.bands !== undefined) {
    if (!Array.isArray(v.bands) || (v.bands.length !== 1 && v.bands.length !== 3)) {
      throw RpcError.invalidParams("options.bands", "must be 1 or 3 band numbers like [4, 3, 2]");
    }
    out.bands = v.bands.map((b, i) => positiveInt(b, `options.bands[${i}]`));
  }
  if (v.batch !== undefined) out.batch = positiveInt(v.batch, "options.batch");
  if (v.box_search !== undefined) out.boxSearch = boxSearch(v.box_search);
  return out;
}

/**
 * Checks the params of a `segment` request. Shape errors throw a -32602
 * {@linkcode RpcError} naming the field; a degenerate box (repeated or
 * collinear corners) throws an {@linkcode InputError} of kind
 * `detections-malformed` naming the box, like a malformed line of a file.
 *
 * @example
 * ```ts
 * import { parseSegmentParams } from "./segment_params.ts";
 * const r = parseSegmentParams({
 *   image: "a.png",
 *   detections: { boxes: [{ corners: [[0, 0], [10, 0], [10, 4], [0, 4]], class: "car" }] },
 * });
 * if (r.detections.kind !== "boxes" || r.detections.detections[0]?.box.width !== 10) throw new Error();
 * try {
 *   parseSegmentParams({ image: "a.png", detections: { boxes: [{ corners: [[0, 0]] }] } });
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e as Error).message.includes("detections.boxes[0].corners")) throw e;
 * }
 * ```
 */
export function parseSegmentParams(params: unknown): SegmentRequest {
  if (!isRecord(params)) {
    throw RpcError.invalidParams(
      "params",
      "must be an object { image, detections, options?, out? }",
    );
  }
  onlyKeys(params, "", ["image", "detections", "options", "out"]);
  if (!("image" in params)) throw RpcError.invalidParams("image", "is required");
  const image = str(params.image, "image");
  if (!("detections" in params)) throw RpcError.invalidParams("detections", "is required");
  const opts = options(params.options);
  const out = params.out === undefined || params.out === null ? null : str(params.out, "out");
  return { image, detections: detections(params.detections), options: opts, out };
}
