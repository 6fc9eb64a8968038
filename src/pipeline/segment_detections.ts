/**
 * One image and its detections -> one GeoJSON feature per detection, in
 * detection order: the per-request unit of the JSON-RPC server, over the same
 * calls as {@linkcode segmentRun}. Failures of the caller's input throw an
 * {@linkcode InputError} whose kind says what went wrong.
 *
 * @module
 */
import { type Detection, type ParseIssue, selectDetections } from "../formats/detection.ts";
import { fileStem } from "../formats/detection_files.ts";
import {
  AngleConventionError,
  looksLikeMmrotateJson,
  parseMmrotateJson,
} from "../formats/mmrotate_json.ts";
import type { AngleConvention } from "../geometry/oriented_box.ts";
import {
  type InstanceFeatureCollection,
  instancesToFeatureCollection,
} from "../formats/geojson_writer.ts";
import type { InstanceResult } from "../formats/instance_result.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";
import { openRaster } from "../raster/open_raster.ts";
import type { OpenRasterOptions, RasterSource } from "../raster/source.ts";
import {
  type DetectionFormat,
  parseDetections,
  perFileFormat,
  type ResultsFormat,
} from "./detections_input.ts";
import { InputError } from "./input_error.ts";
import { instanceResult, segmentBoxes, type SegmentOptions } from "./segment_image.ts";
import { baseName } from "./paths.ts";
import {
  nodataWarning,
  notUtf8Warning,
  outsideImageWarning,
  rasterWarnings,
} from "./input_warnings.ts";
import { readResults, type ResultsByImage, type ResultsCache } from "./results_input.ts";

/** How detections given as text or a file are read. */
export interface DetectionsReading {
  /**
   * The format; `auto` (default) sniffs. The results formats (`task1`: a
   * `Task1_<class>.txt` file or a folder of them; `mmrotate-json`) hold many
   * images' detections: the image's share is read (`imageId`). `task1` is read
   * from a path only.
   */
  format?: DetectionFormat | ResultsFormat | "auto";
  /** Class names by id (YOLO-OBB class, mmrotate `category_id`). */
  classNames?: readonly string[];
  /** The image's id in results files. Default: the image file's stem. */
  imageId?: string;
  /** How mmrotate's `[cx, cy, w, h, angle]` angles are measured (required for them). */
  angleConvention?: AngleConvention;
  /** Leave out detections scored below this (unscored ones are kept). */
  minScore?: number;
}

/** Where the detections of one image come from. */
export type DetectionsSpec =
  | { kind: "list"; detections: readonly Detection[] }
  | ({
    kind: "text";
    text: string;
    /** Name used in messages, e.g. `<request>`. */
    source: string;
  } & DetectionsReading)
  | ({ kind: "path"; path: string } & DetectionsReading);

/** Options of {@linkcode segmentDetections}. */
export type SegmentDetectionsOptions =
  & Pick<
    SegmentOptions,
    | "batchSize"
    | "promptMode"
    | "classPrompt"
    | "boxSearch"
    | "simplify"
    | "keepPromptComponents"
    | "timings"
    | "signal"
  >
  & {
    /** Called after each batch with the number of detections done and the total. */
    onProgress?: (done: number, total: number) => void;
    /**
     * The frame of the returned coordinates: `"auto"` (default), the raster's
     * CRS when it is georeferenced, else pixels (`deno task segment --crs
     * raster`); `"wgs84"`, longitude/latitude (the CLI's default, RFC 7946;
     * the raster's CRS must be one `--crs` lists); `"pixel"`.
     */
    coordinates?: "auto" | "wgs84" | "pixel";
    /**
     * Called with each warning about the inputs (what `deno task segment`
     * prints for the image): before any model call, the raster's georeference
     * and pixel notes, a detection file that is not UTF-8, detections entirely
     * outside the image; after the last, detections mostly on nodata.
     * Default: ignored.
     */
    onWarning?: (message: string) => void;
    /**
     * Keeps results files (Task1, mmrotate JSON) parsed between calls for the
     * same unchanged files: a server segmenting image after image of one
     * detector's results reads them once.
     */
    resultsCache?: ResultsCache;
  };

/**
 * Opens an image for {@linkcode segmentDetections}; a missing or unreadable
 * file throws an {@linkcode InputError} of kind `image-unreadable`, a path the
 * process may not read one of kind `path-not-allowed`.
 *
 * @example
 * ```ts
 * import { openImage } from "./segment_detections.ts";
 * import { InputError } from "./input_error.ts";
 * try {
 *   await openImage("/nonexistent/a.png");
 *   throw new Error("opened");
 * } catch (e) {
 *   if (!(e instanceof InputError) || e.kind !== "image-unreadable") throw e;
 * }
 * ```
 */
export async function openImage(
  path: string,
  options: OpenRasterOptions = {},
): Promise<RasterSource> {
  try {
    return await openRaster(path, options);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new InputError("path-not-allowed", `Cannot open ${path}: not allowed to read it`, {
        path,
        cause: e,
      });
    }
    const why = (e as Error).message.replace(/^Cannot open [^:]*: /, "");
    throw new InputError("image-unreadable", `Cannot open ${path}: ${why}`, { path, cause: e });
  }
}

/**
 * The error for malformed records: the first one named (its file when it is not `name`, e.g.
 * one Task1 file of a folder; its line or feature unless `located` says its message does).
 */
function malformed(
  spec: Exclude<DetectionsSpec, { kind: "list" }>,
  name: string,
  issues: ParseIssue[],
  located = false,
): InputError {
  const [first, ...rest] = issues;
  const file = first!.source !== name ? `${first!.source}: ` : "";
  const where = located
    ? ""
    : first!.feature !== undefined
    ? `feature ${first!.feature}: `
    : `line ${first!.line}: `;
  const more = rest.length ? ` (and ${rest.length} more malformed record(s))` : "";
  return new InputError(
    "detections-malformed",
    `Cannot read ${spec.kind === "path" ? `detections ${name}` : name}: ${file}${where}${
      first!.message
    }${more}`,
    { path: spec.kind === "path" ? spec.path : undefined, issues },
  );
}

function unreadable(path: string, e: unknown): InputError {
  const denied = e instanceof Deno.errors.NotCapable ||
    (e as Error).cause instanceof Deno.errors.NotCapable;
  const why = denied
    ? "not allowed to read it"
    : e instanceof Deno.errors.NotFound || /no such file or folder/.test((e as Error).message)
    ? "no such file"
    : (e as Error).message;
  return new InputError(
    denied ? "path-not-allowed" : "detections-unreadable",
    `Cannot read detections ${path}: ${why}`,
    { path, cause: e },
  );
}

/**
 * The results `spec` stands for (a file or folder of many images' detections),
 * or `null` for one image's detection file or text.
 */
async function resultsOf(
  spec: Exclude<DetectionsSpec, { kind: "list" }>,
  cache: ResultsCache | undefined,
): Promise<ResultsByImage | null> {
  const { format, angleConvention, classNames } = spec;
  const path = spec.kind === "path" ? spec.path : undefined;
  try {
    if (spec.kind === "path") {
      const options = { format, angleConvention, classNames };
      return await (cache ? cache.read(spec.path, options) : readResults(spec.path, options));
    }
    if (format === "task1") {
      throw new TypeError(
        `Cannot read ${spec.source}: DOTA Task1 results are read from a path (a Task1_<class>.txt file or a folder of them)`,
      );
    }
    const asked = format === "mmrotate-json";
    if (!asked && !((format ?? "auto") === "auto" && looksLikeMmrotateJson(spec.text))) {
      return null;
    }
    const parsed = parseMmrotateJson(spec.text, {
      source: spec.source,
      angleConvention,
      classNames,
    });
    return {
      ...parsed,
      source: spec.source,
      what: "the mmrotate results",
      format: "mmrotate-json",
    };
  } catch (e) {
    if (e instanceof AngleConventionError) throw e; // the request's fault: the caller says how
    if (
      path !== undefined && (e instanceof Deno.errors.NotCapable ||
        e instanceof Deno.errors.NotFound || /no such file or folder/.test((e as Error).message))
    ) throw unreadable(path, e);
    if (!(e instanceof TypeError)) throw e;
    // not JSON, not an array, a folder without Task1 files, Task1 given as text
    const message = e.message;
    throw new InputError("detections-malformed", message, {
      path,
      issues: [{ source: path ?? (spec as { source: string }).source, line: 0, message }],
      cause: e,
    });
  }
}

/** The detections of the image `imageId` in `results` (none named: said through `warn`). */
function imageShare(
  results: ResultsByImage,
  imageId: string,
  warn: (message: string) => void,
): Detection[] {
  const share = results.byImage.get(imageId);
  if (share !== undefined) return share;
  // DOTA split tools name patches <image>__<rate>__<x>___<y>, in the patch's own pixels
  const patches = [...results.byImage.keys()].filter((id) => id.startsWith(`${imageId}__`));
  if (patches.length) {
    throw new InputError(
      "detections-malformed",
      `Cannot read ${results.source}: no detections of image ${imageId}, but ${patches.length} ` +
        `patch id(s) of it (${patches.slice(0, 3).join(", ")}${
          patches.length > 3 ? ", ..." : ""
        })` +
        `: those boxes are in the patches' pixels; have the detector merge its results per image ` +
        `(mmrotate: merge_patches=True, Task1 files), or segment the patch images`,
      { issues: [] },
    );
  }
  // No record names the image: the detector found nothing there, or the id is another.
  if (results.byImage.size > 0) {
    const ids = [...results.byImage.keys()];
    warn(
      `no detections of image id ${imageId} in ${results.what} ${results.source} (its ` +
        `${ids.length} image id(s): ${ids.slice(0, 3).join(", ")}${
          ids.length > 3 ? ", ..." : ""
        })` +
        `: the detector found nothing there, or named the image otherwise (give its id)`,
    );
  }
  return [];
}

/**
 * `detections` given as a list, checked as a file's records are: finite boxes with sides
 * over a millionth of a pixel; the others named by index in one InputError.
 */
function checkedList(detections: readonly Detection[]): readonly Detection[] {
  const issues: ParseIssue[] = [];
  detections.forEach((d, i) => {
    const b = d.box;
    const numbers = [b.cx, b.cy, b.width, b.height, b.angle];
    const why = !numbers.every(Number.isFinite)
      ? `its box [${numbers.join(", ")}] is not finite`
      : !(b.width > 1e-6 && b.height > 1e-6)
      ? `degenerate box: ${b.width} x ${b.height}`
      : null;
    if (why !== null) {
      issues.push({ source: "detections", line: 0, feature: i, message: `detection ${i}: ${why}` });
    }
  });
  if (issues.length === 0) return detections;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  throw new InputError(
    "detections-malformed",
    `Cannot segment the detections: ${issues[0]!.message}${more}`,
    { issues },
  );
}

async function readDetections(
  spec: DetectionsSpec,
  source: RasterSource,
  cache: ResultsCache | undefined,
  warn: (message: string) => void,
): Promise<readonly Detection[]> {
  if (spec.kind === "list") return checkedList(spec.detections);
  const name = spec.kind === "text" ? spec.source : spec.path;
  let detections: readonly Detection[];
  const results = await resultsOf(spec, cache);
  if (results !== null) {
    if (results.issues.length) {
      // Task1 issues carry their file and line; mmrotate's name their record.
      const task1 = results.format === "task1";
      throw malformed(spec, name, results.issues, !task1);
    }
    (results.warnings ?? []).forEach(warn);
    detections = imageShare(results, spec.imageId ?? fileStem(source.path), warn);
  } else {
    let text: string;
    if (spec.kind === "text") {
      text = spec.text;
    } else {
      try {
        text = await Deno.readTextFile(spec.path);
      } catch (e) {
        throw unreadable(spec.path, e);
      }
      const notUtf8 = notUtf8Warning(spec.path, text);
      if (notUtf8 !== undefined) warn(notUtf8);
    }
    let parsed;
    try {
      parsed = parseDetections(text, {
        source: name,
        format: perFileFormat(spec.format),
        imageWidth: source.width,
        imageHeight: source.height,
        georef: source.georef,
        classNames: spec.classNames,
      });
    } catch (e) {
      const message = (e as Error).message;
      throw new InputError("detections-malformed", message, {
        path: spec.kind === "path" ? spec.path : undefined,
        issues: [{ source: name, line: 0, message }],
        cause: e,
      });
    }
    if (parsed.issues.length) throw malformed(spec, name, parsed.issues);
    detections = parsed.detections;
  }
  return spec.minScore === undefined
    ? detections
    : selectDetections(detections, { minScore: spec.minScore });
}

/**
 * Segments every detection of one opened image and returns the GeoJSON
 * FeatureCollection `deno task segment --crs raster` would write for it: one
 * feature per detection, in detection order, map coordinates when the raster
 * is georeferenced (`coordinates: "wgs84"`: what the CLI writes by default).
 * Detections given as text or a file are parsed against the raster (size,
 * georeference); any malformed record fails the whole call with an
 * {@linkcode InputError} of kind `detections-malformed` naming its line.
 *
 * @example
 * ```ts ignore
 * const model = await SopsegModel.load("models/sopseg-lite");
 * const source = await openImage("P1888.png");
 * try {
 *   const fc = await segmentDetections(model, {
 *     source,
 *     detections: { kind: "path", path: "P1888.txt" },
 *   }, { onWarning: (m) => console.warn(m) });
 *   console.log(fc.features.length);
 * } finally {
 *   await source.close();
 *   await model.close();
 * }
 * ```
 */
export async function segmentDetections(
  model: SopsegModel,
  input: { source: RasterSource; detections: DetectionsSpec },
  options: SegmentDetectionsOptions = {},
): Promise<InstanceFeatureCollection> {
  const { source } = input;
  const writer = {
    sourceImage: baseName(source.path),
    georef: source.georef,
    coordinates: options.coordinates ?? "auto",
  };
  instancesToFeatureCollection([], writer); // a frame it cannot write fails before any work
  const warn = options.onWarning ?? (() => {});
  rasterWarnings(source.path, source).forEach(warn);
  const detections = await readDetections(input.detections, source, options.resultsCache, warn);
  const outside = outsideImageWarning(source.path, detections, source.width, source.height);
  if (outside !== undefined) warn(outside);
  const results: InstanceResult[] = [];
  const nodata: number[] = [];
  for await (
    const r of segmentBoxes(model, {
      source,
      boxes: detections.map((d) => d.box),
      classes: detections.map((d) => d.className),
    }, {
      batchSize: options.batchSize,
      promptMode: options.promptMode,
      classPrompt: options.classPrompt,
      boxSearch: options.boxSearch,
      simplify: options.simplify,
      keepPromptComponents: options.keepPromptComponents,
      timings: options.timings,
      signal: options.signal,
      onProgress: options.onProgress,
    })
  ) {
    results.push(instanceResult(model, r, detections));
    nodata.push(r.nodataShare);
  }
  // a raster of nodata only was said as such: not again box by box
  const onNodata = source.pixelsNote === undefined ? nodataWarning(source.path, nodata) : undefined;
  if (onNodata !== undefined) warn(onNodata);
  return instancesToFeatureCollection(results, writer);
}
