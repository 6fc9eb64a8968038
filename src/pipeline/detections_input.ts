/**
 * Reading one detection file in whichever format it is.
 *
 * @module
 */
import type { ParsedDetections } from "../formats/detection.ts";
import { parseDota } from "../formats/dota.ts";
import { parseYoloObb, YOLO_CLASS_ID } from "../formats/yolo_obb.ts";
import { parseGeoJsonDetections } from "../formats/geojson_detections.ts";
import type { Georef } from "../raster/source.ts";

/** Detection file formats. */
export type DetectionFormat = "dota" | "yolo-obb" | "geojson";

/** The formats of result files that hold many images' detections (read by image id). */
export type ResultsFormat = "task1" | "mmrotate-json";

/**
 * The format one image's detection file is read in: a results format (whose
 * files a run splits by image when it plans) leaves each file to `auto`.
 */
export function perFileFormat(
  format: DetectionFormat | ResultsFormat | "auto" | undefined,
): DetectionFormat | "auto" {
  return format === undefined || format === "task1" || format === "mmrotate-json" ? "auto" : format;
}

/** Every accepted `--format` value. */
export const DETECTION_FORMATS: readonly (DetectionFormat | "auto")[] = [
  "auto",
  "dota",
  "yolo-obb",
  "geojson",
];

/**
 * Every format of a detections path: the per-file formats and the results
 * formats (`task1`: DOTA Task1 results; `mmrotate-json`: mmrotate's
 * `<prefix>.bbox.json`), which hold many images' detections.
 */
export const RESULTS_DETECTION_FORMATS: readonly (DetectionFormat | ResultsFormat | "auto")[] = [
  ...DETECTION_FORMATS,
  "task1",
  "mmrotate-json",
];

/**
 * Guess the format of a detection file from its name and first data line:
 * `.geojson`/`.json` or a leading `{` is GeoJSON; a `.txt` whose first data
 * line is `<int> x1 .. y4 [conf]` with values in [-1, 2] is YOLO-OBB (the
 * class id may be written `3.000000`); a line
 * of 9 or 10 numbers (YOLO-OBB in pixels, or DOTA with a numeric class) is
 * the one whose corners make the more rectangular box, a detector's box being
 * a rectangle (YOLO-OBB's reader then refuses pixels, saying so); else DOTA.
 *
 * @example
 * ```ts
 * import { sniffDetectionFormat } from "./detections_input.ts";
 * if (sniffDetectionFormat("a.txt", "0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n") !== "yolo-obb") throw new Error();
 * if (sniffDetectionFormat("a.txt", "gsd:0.3\n10 10 20 10 20 20 10 20 ship 0\n") !== "dota") throw new Error();
 * if (sniffDetectionFormat("a.txt", "0 674 375 683 375 684 394 675 395\n") !== "yolo-obb") throw new Error();
 * if (sniffDetectionFormat("a.txt", "674 375 683 375 684 394 675 395 3 0\n") !== "dota") throw new Error();
 * // every column written as a float (np.savetxt): the class id too
 * if (sniffDetectionFormat("a.txt", "3.000000 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2 0.9\n") !== "yolo-obb") throw new Error();
 * ```
 */
export function sniffDetectionFormat(name: string, text: string): DetectionFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith(".geojson") || lower.endsWith(".json") || text.trimStart().startsWith("{")) {
    return "geojson";
  }
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || /^(imagesource|gsd)\s*:/i.test(line)) continue;
    const f = line.split(/\s+/);
    const nums = f.slice(1, 9).map(Number);
    const shaped = YOLO_CLASS_ID.test(f[0] ?? "") && f.length >= 9 && f.length <= 11 &&
      nums.every(Number.isFinite);
    if (shaped && nums.every((v) => v >= -1 && v <= 2)) return "yolo-obb";
    const ninth = Number(f[8]);
    if (shaped && f[8] !== "" && Number.isFinite(ninth)) {
      const dota = f.slice(0, 8).map(Number);
      return skew(nums) < skew(dota) ? "yolo-obb" : "dota";
    }
    return "dota";
  }
  return "dota";
}

/**
 * How far 8 numbers, read as the corners of a quadrilateral, are from a
 * rectangle: the sum of |cos| of its four angles (0 for a rectangle).
 */
function skew(v: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    const [ax, ay] = [v[2 * ((i + 3) % 4)]!, v[2 * ((i + 3) % 4) + 1]!];
    const [bx, by] = [v[2 * i]!, v[2 * i + 1]!];
    const [cx, cy] = [v[2 * ((i + 1) % 4)]!, v[2 * ((i + 1) % 4) + 1]!];
    const [ux, uy, wx, wy] = [ax - bx, ay - by, cx - bx, cy - by];
    const norm = Math.hypot(ux, uy) * Math.hypot(wx, wy);
    sum += norm === 0 ? 1 : Math.abs(ux * wx + uy * wy) / norm;
  }
  return sum;
}

/** Options of {@linkcode parseDetections}. */
export interface ParseDetectionsOptions {
  /** Name used in messages (the file path, or `<stdin>`). */
  source: string;
  /** Format; `auto` sniffs. Default: `"auto"`. */
  format?: DetectionFormat | "auto";
  /** Image size (YOLO-OBB coordinates are normalised by it). */
  imageWidth: number;
  imageHeight: number;
  /** The raster's georeference (GeoJSON in map coordinates). */
  georef: Georef | null;
  /** YOLO-OBB class names by id. */
  classNames?: readonly string[];
}

/**
 * Parse detection text in the given or sniffed format.
 *
 * @example
 * ```ts
 * import { parseDetections } from "./detections_input.ts";
 * const r = parseDetections("10 10 30 10 30 20 10 20 ship 0\nbad line\n", {
 *   source: "a.txt", imageWidth: 100, imageHeight: 100, georef: null,
 * });
 * if (r.detections.length !== 1 || r.issues[0]?.line !== 2) throw new Error(JSON.stringify(r.issues));
 * ```
 */
export function parseDetections(text: string, options: ParseDetectionsOptions): ParsedDetections {
  const format = !options.format || options.format === "auto"
    ? sniffDetectionFormat(options.source, text)
    : options.format;
  switch (format) {
    case "dota":
      // DOTA's layout also carries detectors' output, a score in the difficult flag's place
      return parseDota(text, { source: options.source, lastField: "auto" });
    case "yolo-obb":
      return parseYoloObb(text, {
        source: options.source,
        imageWidth: options.imageWidth,
        imageHeight: options.imageHeight,
        classNames: options.classNames,
      });
    case "geojson":
      return parseGeoJsonDetections(text, {
        source: options.source,
        georef: options.georef,
        imageSize: { width: options.imageWidth, height: options.imageHeight },
      });
  }
}
