/**
 * A detector's output as {@linkcode EvalDetections} for `deno task eval
 * --detections`: a folder of per-image files matched to the GT images by stem
 * (DOTA labelTxt, YOLO-OBB, GeoJSON in pixels), or results of many images
 * (DOTA Task1 files, mmrotate JSON) split by image id.
 *
 * @module
 */
import type { Detection, ParseIssue } from "../formats/detection.ts";
import { fileStem } from "../formats/detection_files.ts";
import { selectDetections } from "../formats/detection.ts";
import { parseDetections, perFileFormat } from "../pipeline/detections_input.ts";
import type { DetectionsReading } from "../pipeline/segment_detections.ts";
import { isDirectory, listFiles, readResults } from "../pipeline/results_input.ts";
import type { CocoImage } from "./coco_gt.ts";
import type { EvalDetections } from "./run_eval.ts";

/**
 * Options of {@linkcode openEvalDetections}: how the files are read, as the server reads a
 * request's detections (format, class names, angle convention, minimum score), and matched.
 */
export interface EvalDetectionsOptions extends Omit<DetectionsReading, "imageId"> {
  /** Rotated IoU a match needs. Default: 0.5. */
  iouThreshold?: number;
  /** The class a name means (see {@linkcode EvalDetections.classOf}). */
  classOf?: (name: string) => string;
  /** Called with each record that cannot be read (it is left out; the evaluation goes on). */
  onIssue?: (issue: ParseIssue) => void;
  /**
   * The ground truth's image file names: files or image ids that match none
   * of them are named to `onWarning`, and when none matches at all, opening
   * throws (another split or dataset: every detection would go unscored).
   */
  gtImages?: readonly string[];
  /** Called with what the caller should be told (files or ids matching no GT image). */
  onWarning?: (message: string) => void;
}

/**
 * Checks the detections' image ids (or files' stems) against the GT's images:
 * a warning naming those that match none, a TypeError when none matches.
 */
function checkAgainstGt(
  path: string,
  ids: readonly string[],
  what: string,
  options: EvalDetectionsOptions,
): void {
  if (options.gtImages === undefined || ids.length === 0) return;
  const gt = new Set(options.gtImages.map((f) => fileStem(f)));
  const unmatched = ids.filter((id) => !gt.has(id));
  const some = (list: readonly string[]) =>
    list.slice(0, 3).join(", ") + (list.length > 3 ? ", ..." : "");
  if (unmatched.length === ids.length) {
    throw new TypeError(
      `Cannot evaluate the detections of ${path}: none of their ${ids.length} ${what} (${
        some(unmatched)
      }) is an image of the ground truth (${some(options.gtImages)}); another split or dataset?`,
    );
  }
  if (unmatched.length > 0) {
    options.onWarning?.(
      `${unmatched.length} ${what} of ${path} match no image of the ground truth, left out: ${
        some(unmatched)
      }`,
    );
  }
}

/**
 * Opens `path` as a detector's output for the evaluation. Results files are read
 * at once; per-image files when their image comes (an image with no file has no
 * detections). A single per-image file is refused: it cannot say which image it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openEvalDetections } from "./detections_source.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "10 10 30 10 30 20 10 20 ship 0\n");
 * const det = await openEvalDetections(dir);
 * const image = { id: 1, fileName: "sub/a.png", width: 64, height: 64 };
 * assert.equal((await det.forImage(image)).length, 1);
 * assert.equal((await det.forImage({ ...image, fileName: "b.png" })).length, 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openEvalDetections(
  path: string,
  options: EvalDetectionsOptions = {},
): Promise<EvalDetections> {
  const keep = (list: readonly Detection[]) =>
    options.minScore === undefined ? list : selectDetections(list, { minScore: options.minScore });
  const report = (issues: readonly ParseIssue[]) => {
    for (const issue of issues) options.onIssue?.(issue);
  };
  const common = { source: path, iouThreshold: options.iouThreshold, classOf: options.classOf };
  const results = await readResults(path, options);
  if (results !== null) {
    report(results.issues);
    checkAgainstGt(path, [...results.byImage.keys()], "image id(s)", options);
    return {
      ...common,
      forImage: (image) => keep(results.byImage.get(fileStem(image.fileName)) ?? []),
    };
  }
  if (!(await isDirectory(path))) {
    throw new TypeError(
      `Cannot read detections ${path}: one file of one image's detections; give the folder of ` +
        `the images' files (named after them) or a results file (Task1, mmrotate JSON)`,
    );
  }
  const files = new Map<string, string>();
  for (const file of await listFiles(path, (n) => /\.(txt|geojson|json)$/i.test(n))) {
    files.set(fileStem(file), file);
  }
  checkAgainstGt(path, [...files.keys()], "file(s)", options);
  const format = perFileFormat(options.format);
  return {
    ...common,
    async forImage(image: CocoImage) {
      const file = files.get(fileStem(image.fileName));
      if (file === undefined) return [];
      const parsed = parseDetections(await Deno.readTextFile(file), {
        source: file,
        format,
        imageWidth: image.width,
        imageHeight: image.height,
        georef: null,
        classNames: options.classNames,
      });
      report(parsed.issues);
      return keep(parsed.detections);
    },
  };
}
