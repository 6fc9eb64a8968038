/**
 * One image and its detections -> one GeoJSON feature per detection, in
 * detection order: the per-request unit of the JSON-RPC server, over the same
 * calls as {@linkcode segmentRun}. Failures of the caller's input throw an
 * {@linkcode InputError} whose kind says what went wrong.
 *
 * @module
 */
import type { Detection } from "../formats/detection.ts";
import {
  type InstanceFeatureCollection,
  instancesToFeatureCollection,
} from "../formats/geojson_writer.ts";
import type { InstanceResult } from "../formats/instance_result.ts";
import type { SopsegModel } from "../model/sopseg_model.ts";
import { openRaster } from "../raster/open_raster.ts";
import type { OpenRasterOptions, RasterSource } from "../raster/source.ts";
import { type DetectionFormat, parseDetections } from "./detections_input.ts";
import { InputError } from "./input_error.ts";
import { instanceResult, segmentBoxes, type SegmentOptions } from "./segment_image.ts";
import { baseName } from "./paths.ts";

/** Where the detections of one image come from. */
export type DetectionsSpec =
  | { kind: "list"; detections: readonly Detection[] }
  | {
    kind: "text";
    text: string;
    /** Name used in messages, e.g. `<request>`. */
    source: string;
    format?: DetectionFormat | "auto";
    classNames?: readonly string[];
  }
  | {
    kind: "path";
    path: string;
    format?: DetectionFormat | "auto";
    classNames?: readonly string[];
  };

/** Options of {@linkcode segmentDetections}. */
export type SegmentDetectionsOptions =
  & Pick<
    SegmentOptions,
    | "batchSize"
    | "promptMode"
    | "classPrompt"
    | "simplify"
    | "keepPromptComponents"
    | "timings"
    | "signal"
  >
  & {
    /** Called after each batch with the number of detections done and the total. */
    onProgress?: (done: number, total: number) => void;
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

async function readDetections(
  spec: DetectionsSpec,
  source: RasterSource,
): Promise<readonly Detection[]> {
  if (spec.kind === "list") return spec.detections;
  let text: string;
  let name: string;
  if (spec.kind === "text") {
    text = spec.text;
    name = spec.source;
  } else {
    name = spec.path;
    try {
      text = await Deno.readTextFile(spec.path);
    } catch (e) {
      const denied = e instanceof Deno.errors.NotCapable;
      const why = denied
        ? "not allowed to read it"
        : e instanceof Deno.errors.NotFound
        ? "no such file"
        : (e as Error).message;
      throw new InputError(
        denied ? "path-not-allowed" : "detections-unreadable",
        `Cannot read detections ${spec.path}: ${why}`,
        { path: spec.path, cause: e },
      );
    }
  }
  let parsed;
  try {
    parsed = parseDetections(text, {
      source: name,
      format: spec.format,
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
  const [first, ...rest] = parsed.issues;
  if (first !== undefined) {
    const where = first.feature !== undefined ? `feature ${first.feature}` : `line ${first.line}`;
    const more = rest.length ? ` (and ${rest.length} more malformed record(s))` : "";
    throw new InputError(
      "detections-malformed",
      `Cannot read ${
        spec.kind === "path" ? `detections ${name}` : name
      }: ${where}: ${first.message}${more}`,
      { path: spec.kind === "path" ? spec.path : undefined, issues: parsed.issues },
    );
  }
  return parsed.detections;
}

/**
 * Segments every detection of one opened image and returns the GeoJSON
 * FeatureCollection the CLI would write for it: one feature per detection, in
 * detection order, map coordinates when the raster is georeferenced.
 * Detections given as text or a file are parsed against the raster (size,
 * georeference); any malformed record fails the whole call with an
 * {@linkcode InputError} of kind `detections-malformed` naming its line.
 *
 * @example
 * ```ts ignore
 * const source = await openImage("P1888.png");
 * const fc = await segmentDetections(model, {
 *   source,
 *   detections: { kind: "path", path: "P1888.txt" },
 * });
 * console.log(fc.features.length);
 * await source.close();
 * ```
 */
export async function segmentDetections(
  model: SopsegModel,
  input: { source: RasterSource; detections: DetectionsSpec },
  options: SegmentDetectionsOptions = {},
): Promise<InstanceFeatureCollection> {
  const { source } = input;
  const detections = await readDetections(input.detections, source);
  const results: InstanceResult[] = [];
  for await (
    const r of segmentBoxes(model, {
      source,
      boxes: detections.map((d) => d.box),
      classes: detections.map((d) => d.className),
    }, {
      batchSize: options.batchSize,
      promptMode: options.promptMode,
      classPrompt: options.classPrompt,
      simplify: options.simplify,
      keepPromptComponents: options.keepPromptComponents,
      timings: options.timings,
      signal: options.signal,
      onProgress: options.onProgress,
    })
  ) {
    results.push(instanceResult(model, r, detections));
  }
  return instancesToFeatureCollection(results, {
    sourceImage: baseName(source.path),
    georef: source.georef,
  });
}
