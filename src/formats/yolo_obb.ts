/**
 * Reader for Ultralytics YOLO-OBB label and prediction files.
 *
 * @module
 */

import type { Detection, ParsedDetections, ParseIssue } from "./detection.ts";
import {
  CORNER_NAMES,
  errorMessage,
  FieldError,
  parseFiniteNumber,
  pixelBoxFromCorners,
  readNumbers,
  SubPixelBoxes,
  textRecords,
} from "./_parse.ts";

/**
 * Normalised coordinates are accepted in `[-YOLO_OBB_LIMIT + 1, YOLO_OBB_LIMIT]`
 * (`[-1, 2]`): a little outside `[0, 1]` is a corner off the image; further
 * out, the file is most likely in pixels.
 */
export const YOLO_OBB_LIMIT = 2;

/**
 * A YOLO-OBB class id: a non-negative integer, also written as a float with a
 * zero fraction (`10.000000`, as `np.savetxt` writes a float array).
 */
export const YOLO_CLASS_ID = /^\d+(?:\.0*)?$/;

/** Options for {@linkcode parseYoloObb}. */
export interface ParseYoloObbOptions {
  /** Where the text comes from (a file path); copied into detections and issues. */
  source: string;
  /** Width of the image in pixels (x coordinates are scaled by it). */
  imageWidth: number;
  /** Height of the image in pixels (y coordinates are scaled by it). */
  imageHeight: number;
  /**
   * Class names indexed by class id (the `names` list of the dataset YAML).
   * Default: none, the class name is the id as a decimal string.
   */
  classNames?: readonly string[];
}

/**
 * Reads an Ultralytics YOLO-OBB file: `cls x1 y1 x2 y2 x3 y3 x4 y4 [conf
 * [track_id]]` per line (the track id of `yolo track` is read and not used),
 * coordinates normalised by the image width and height. Returns boxes in
 * the pixel frame (`x * imageWidth`, `y * imageHeight`).
 *
 * Values slightly outside `[0, 1]` are accepted (corners off the image); a
 * value below -1 or above 2 makes the line an issue that says the file looks
 * like pixel coordinates; so does a box whose sides, scaled to pixels, are
 * both under a pixel. Bad lines become {@linkcode ParseIssue}s and are
 * skipped. Throws for bad options (a RangeError for a non-positive image
 * size), and a TypeError for a file whose every box is smaller than a pixel.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseYoloObb } from "./yolo_obb.ts";
 *
 * const text = "1 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2 0.87\n";
 * const { detections } = parseYoloObb(text, {
 *   source: "a.txt",
 *   imageWidth: 100,
 *   imageHeight: 200,
 *   classNames: ["plane", "ship"],
 * });
 * assert.equal(detections[0]!.className, "ship");
 * assert.equal(detections[0]!.score, 0.87);
 * assert.ok(Math.abs(detections[0]!.box.cx - 20) < 1e-9);
 * assert.ok(Math.abs(detections[0]!.box.cy - 30) < 1e-9);
 * ```
 *
 * @param text The file's text.
 * @param options Source, image size and class names.
 * @returns The detections and the issues.
 */
export function parseYoloObb(text: string, options: ParseYoloObbOptions): ParsedDetections {
  const { source, imageWidth, imageHeight, classNames } = options;
  for (const [name, value] of [["imageWidth", imageWidth], ["imageHeight", imageHeight]] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(
        `Cannot read YOLO-OBB file "${source}": ${name} must be a positive number, got ${value}`,
      );
    }
  }
  const detections: Detection[] = [];
  const issues: ParseIssue[] = [];
  const subPixel = new SubPixelBoxes();
  const scaled = `${imageWidth} x ${imageHeight} px`;
  for (const { line, fields } of textRecords(text)) {
    try {
      if (fields.length < 9 || fields.length > 11) {
        throw new FieldError(
          `expected 9 to 11 fields (cls x1 y1 x2 y2 x3 y3 x4 y4 [conf [track_id]]), got ${fields.length}`,
        );
      }
      const idToken = fields[0] ?? "";
      if (!YOLO_CLASS_ID.test(idToken)) {
        throw new FieldError(`class id must be a non-negative integer, got "${idToken}"`);
      }
      const classId = Number(idToken);
      let className = String(classId);
      if (classNames !== undefined) {
        const name = classNames[classId];
        if (name === undefined) {
          throw new FieldError(
            `class id ${classId} is out of range for ${classNames.length} class names`,
          );
        }
        className = name;
      }
      const values = readNumbers(fields, 1, 8, CORNER_NAMES);
      values.forEach((v, i) => {
        if (v < 1 - YOLO_OBB_LIMIT || v > YOLO_OBB_LIMIT) {
          throw new FieldError(
            `${CORNER_NAMES[i]} = ${v} is far outside [0, 1]: YOLO-OBB coordinates are ` +
              `normalised by the image size, and this file looks like pixel coordinates ` +
              `(read it as DOTA, or normalise it)`,
          );
        }
      });
      let score: number | null = null;
      const conf = fields[9];
      if (conf !== undefined) {
        score = parseFiniteNumber(conf);
        if (score === null) throw new FieldError(`conf is not a number: "${conf}"`);
        if (fields.length === 10 && Number.isInteger(score) && score >= 2) {
          // ultralytics' tracker writes the track id last, after conf only with save_conf
          throw new FieldError(
            `conf ${conf} is no confidence: a tracker's id? (ultralytics writes ` +
              `cls x1..y4 conf track_id with save_conf=True; without it the id takes conf's place)`,
          );
        }
      }
      // an 11th field: the tracker's id (ultralytics `track` with save_txt and save_conf): not used
      const corners: Detection["corners"] = [0, 2, 4, 6].map((i) => ({
        x: (values[i] ?? NaN) * imageWidth,
        y: (values[i + 1] ?? NaN) * imageHeight,
      })) as NonNullable<Detection["corners"]>;
      // checked in pixels: normalised corners of a real box are well under 1
      const box = pixelBoxFromCorners(
        corners,
        `corners scaled by the image size (${scaled}): are they normalised by another size?`,
      );
      detections.push({ box, className, score, difficult: false, source, line, corners });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      subPixel.note(error, line);
      issues.push({ source, line, message: `Cannot read YOLO-OBB box: ${errorMessage(error)}` });
    }
  }
  subPixel.check(
    source,
    "YOLO-OBB boxes",
    detections.length,
    `YOLO-OBB corners are normalised by the image size (${scaled}): are these in degrees, ` +
      `or normalised by another size?`,
  );
  return { detections, issues };
}
