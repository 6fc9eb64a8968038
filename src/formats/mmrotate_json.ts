/**
 * mmrotate's JSON detection results: what its `DOTAMetric` writes as
 * `<outfile_prefix>.bbox.json` when patches are not merged into Task1 files.
 * One array for the whole test set:
 *
 * ```json
 * [{"image_id": "P0706", "bbox": [cx, cy, w, h, angle], "score": 0.93, "category_id": 4}, ...]
 * ```
 *
 * `image_id` is the image's file stem for DOTA-style datasets; `bbox` is a
 * rotated box whose angle is in radians in the detector's `angle_version`
 * (`le90`, mmrotate 1.x's default, `le135` or `oc`), which the file does not
 * say and the user must; a `bbox` of 8 numbers (a `qbox` detector) is read as
 * four corners. `category_id` is the label's index in the dataset's classes.
 *
 * @module
 */

import { type AngleConvention, orientedBoxFromCenter } from "../geometry/oriented_box.ts";
import type { Detection, ParseIssue } from "./detection.ts";
import {
  boxFromCorners,
  CORNER_NAMES,
  cornersFromNumbers,
  errorMessage,
  FieldError,
  shown,
} from "./_parse.ts";

/** Options for {@linkcode parseMmrotateJson}. */
export interface ParseMmrotateJsonOptions {
  /** Where the text comes from (a file path); copied into detections and issues. */
  source: string;
  /**
   * How a 5-number `bbox`'s angle is to be read: the detector's `angle_version`
   * (`le90`, `le135`, `oc`), or `radians` / `degrees`. Required when the file
   * has such boxes: a TypeError otherwise.
   */
  angleConvention?: AngleConvention;
  /** Class names by `category_id`. Default: the id's decimal string. */
  classNames?: readonly string[];
}

/** What {@linkcode parseMmrotateJson} returns. */
export interface ParsedMmrotateJson {
  /** Detections grouped by `image_id` (as a string), in first-seen order. */
  byImage: Map<string, Detection[]>;
  /** Skipped records, in file order (`feature`: the record's 0-based index). */
  issues: ParseIssue[];
  /** What the file's numbers suggest was misread (angles in the other unit), to be said. */
  warnings: string[];
}

/** Rotated boxes without the angle convention that gives their angle a meaning. */
export class AngleConventionError extends TypeError {
  override name = "AngleConventionError";
}

/** The box names of a 5-number `bbox`. */
const RBOX_NAMES = ["cx", "cy", "w", "h", "angle"] as const;

/**
 * Whether `text` looks like mmrotate's JSON results: its first non-blank
 * character opens an array (GeoJSON, the other JSON input, is an object).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksLikeMmrotateJson } from "./mmrotate_json.ts";
 *
 * assert.equal(looksLikeMmrotateJson(' [{"image_id": "a", "bbox": [1, 2, 3, 4, 0]}]'), true);
 * assert.equal(looksLikeMmrotateJson('{"type": "FeatureCollection", "features": []}'), false);
 * ```
 *
 * @param text The file's text.
 * @returns `true` for a JSON array.
 */
export function looksLikeMmrotateJson(text: string): boolean {
  return text.replace(/^\uFEFF/, "").trimStart().startsWith("[");
}

/**
 * Reads mmrotate's JSON results. A record that cannot be read (no image id, a
 * `bbox` of another length, a non-finite number, an angle outside its
 * convention's range, a box of zero width or height, a class id with no name)
 * becomes an issue naming its index and image, and the others are read. Text
 * that is not a JSON array is a TypeError, and 5-number boxes without
 * `angleConvention` an {@linkcode AngleConventionError} (a TypeError): nothing
 * in the file can be read right.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMmrotateJson } from "./mmrotate_json.ts";
 *
 * const text = JSON.stringify([
 *   { image_id: "P0706", bbox: [20, 15, 20, 10, 0], score: 0.9, category_id: 1 },
 *   { image_id: "P0706", bbox: [50, 50, 8, 4, 9], score: 0.8, category_id: 1 },
 * ]);
 * const { byImage, issues } = parseMmrotateJson(text, {
 *   source: "work_dirs/results.bbox.json",
 *   angleConvention: "le90",
 *   classNames: ["plane", "ship"],
 * });
 * const [d] = byImage.get("P0706")!;
 * assert.equal(d!.className, "ship");
 * assert.deepEqual([d!.box.cx, d!.box.cy, d!.box.width, d!.box.height], [20, 15, 20, 10]);
 * assert.match(issues[0]!.message, /record 1 \(image P0706\).*le90/);
 * ```
 *
 * @param text The file's text.
 * @param options Source, angle convention and class names.
 * @returns Detections per image id, and the issues.
 */
export function parseMmrotateJson(
  text: string,
  options: ParseMmrotateJsonOptions,
): ParsedMmrotateJson {
  const { source, angleConvention, classNames } = options;
  const what = `Cannot read mmrotate results "${source}"`;
  let records: unknown;
  const json = text.replace(/^\uFEFF/, "");
  try {
    records = JSON.parse(json);
  } catch (error) {
    // Python's json module writes NaN and Infinity (a diverged model's scores): their records
    // are named and skipped below, the others read.
    const marked = markNonFinite(json);
    try {
      if (marked === null) throw error;
      records = JSON.parse(marked);
    } catch {
      throw new TypeError(`${what}: not JSON (${errorMessage(error)})`);
    }
  }
  if (!Array.isArray(records)) {
    throw new TypeError(
      `${what}: expected a JSON array of {image_id, bbox, score, category_id} records ` +
        `(mmrotate's <outfile_prefix>.bbox.json)`,
    );
  }
  if (
    angleConvention === undefined &&
    records.some((r) =>
      Array.isArray((r as { bbox?: unknown } | null)?.bbox) &&
      (r as { bbox: unknown[] }).bbox.length === 5
    )
  ) {
    throw new AngleConventionError(
      `${what}: its boxes are [cx, cy, w, h, angle] and the file does not say how the angle ` +
        `is measured; give the detector's angle_version (--angle-convention le90, le135 or oc; ` +
        `mmrotate 1.x's default is le90)`,
    );
  }
  const byImage = new Map<string, Detection[]>();
  const issues: ParseIssue[] = [];
  const angles: number[] = [];
  records.forEach((record: unknown, index) => {
    let image = "";
    try {
      if (record === null || typeof record !== "object" || Array.isArray(record)) {
        throw new FieldError("not an object");
      }
      const r = record as Record<string, unknown>;
      image = imageId(r.image_id);
      if (r.bbox === undefined && (r.poly !== undefined || r.rbox !== undefined)) {
        throw new FieldError(
          "no bbox but rbox/poly: this is ultralytics' predictions.json (save_json), which is " +
            "not read (its category_id base differs between versions); give its save_txt " +
            "labels (YOLO-OBB, --classes in the model's order) instead",
        );
      }
      const bbox = numbers(r.bbox);
      const className = classOf(r.category_id, classNames);
      const score = r.score === undefined || r.score === null ? null : finite(r.score, "score");
      let box;
      let corners: Detection["corners"];
      if (bbox.length === 5) {
        const [cx = NaN, cy = NaN, width = NaN, height = NaN, angle = NaN] = bbox;
        angles.push(angle);
        // a side under a millionth of a pixel is no box (corners: the same rule, relative)
        if (!(width > 1e-6 && height > 1e-6)) {
          throw new FieldError(`degenerate box: w x h = ${width} x ${height}`);
        }
        try {
          box = orientedBoxFromCenter(cx, cy, {
            width,
            height,
            angle,
            convention: angleConvention,
          });
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          throw new FieldError(error.message.replace(/^Cannot [^:]*: /, ""));
        }
      } else {
        corners = cornersFromNumbers(bbox);
        box = boxFromCorners(corners);
      }
      let list = byImage.get(image);
      if (list === undefined) byImage.set(image, list = []);
      list.push({
        box,
        className,
        score,
        difficult: false,
        source,
        line: 0,
        feature: index,
        ...(corners ? { corners } : {}),
      });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      const where = image ? `record ${index} (image ${image})` : `record ${index}`;
      issues.push({
        source,
        line: 0,
        feature: index,
        message: `Cannot read mmrotate ${where}: ${errorMessage(error)}`,
      });
    }
  });
  const unit = angleUnitWarning(what.replace(/^Cannot read /, ""), angles, angleConvention);
  return { byImage, issues, warnings: unit === undefined ? [] : [unit] };
}

/**
 * A warning when a file's angles look like the other unit than the one stated
 * (the range of le90, le135 and oc catches degrees given as radians; `degrees`
 * and `radians` take any angle): at least 8 angles, all within +-pi read as
 * degrees (boxes turned at most 3 degrees), or some past 2 pi read as radians.
 */
function angleUnitWarning(
  what: string,
  angles: readonly number[],
  convention: AngleConvention | undefined,
): string | undefined {
  if (angles.length < 8) return undefined;
  let largest = 0;
  for (const a of angles) largest = Math.max(largest, Math.abs(a));
  const told = `--angle-convention ${convention}`;
  if (convention === "degrees" && largest > 0 && largest <= Math.PI + 1e-6) {
    return `${what}: all ${angles.length} angles are within +-pi (the largest ${largest}), ` +
      `read as degrees as ${told} says: if they are radians, give the detector's angle_version ` +
      `(le90, le135, oc) or radians instead`;
  }
  if (convention === "radians" && largest > 2 * Math.PI + 1e-6) {
    return `${what}: angles up to ${largest} are read as radians as ${told} says: if they are ` +
      `degrees, give --angle-convention degrees`;
  }
  return undefined;
}

function imageId(value: unknown): string {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  throw new FieldError(`image_id must be a file stem or an integer, got ${shown(value)}`);
}

function finite(value: unknown, name: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.startsWith(NON_FINITE)) {
    throw new FieldError(`${name} is ${value.slice(1)}`);
  }
  throw new FieldError(`${name} is not a finite number: ${shown(value)}`);
}

/** Marks a `NaN`/`Infinity` token that {@linkcode markNonFinite} made a string. */
const NON_FINITE = "\u0000";

/**
 * `text` with each `NaN`, `Infinity` and `-Infinity` outside strings (Python's
 * json module writes them for non-finite floats; JSON has none) made a marked
 * string, or `null` when it has none.
 */
function markNonFinite(text: string): string | null {
  const token = /-?Infinity|NaN/y;
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== "N" && c !== "I" && c !== "-") continue;
    token.lastIndex = i;
    const m = token.exec(text);
    if (m === null) continue;
    out += `${text.slice(from, i)}"\\u0000${m[0]}"`; // JSON for the NON_FINITE mark
    i += m[0].length - 1;
    from = i + 1;
  }
  return from === 0 ? null : out + text.slice(from);
}

function numbers(bbox: unknown): number[] {
  if (!Array.isArray(bbox) || (bbox.length !== 5 && bbox.length !== 8)) {
    throw new FieldError(
      `bbox must be [cx, cy, w, h, angle] or 8 corner coordinates, got ${shown(bbox)}`,
    );
  }
  const names = bbox.length === 5 ? RBOX_NAMES : CORNER_NAMES;
  return bbox.map((v, i) => finite(v, `bbox ${names[i]}`));
}

function classOf(value: unknown, classNames: readonly string[] | undefined): string {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new FieldError(
      `category_id must be a non-negative integer, got ${shown(value)}`,
    );
  }
  if (classNames === undefined) return String(value);
  const name = classNames[value];
  if (name === undefined) {
    throw new FieldError(
      `category_id ${value} is out of range for ${classNames.length} class names`,
    );
  }
  return name;
}
