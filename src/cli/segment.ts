/**
 * `sopseg segment`: oriented detections + imagery -> instance masks.
 *
 * @module
 */
import { SopsegModel } from "../model/sopseg_model.ts";
import { DEFAULT_MODEL_DIR } from "../model/default_model.ts";
import { featureToNdjsonLine } from "../formats/geojson_writer.ts";
import { ANGLE_CONVENTIONS } from "../geometry/oriented_box.ts";
import { AngleConventionError } from "../formats/mmrotate_json.ts";
import { type RunEvent, segmentRun } from "../pipeline/segment_run.ts";
import { RESULTS_DETECTION_FORMATS } from "../pipeline/detections_input.ts";
import type { PromptMode } from "../geometry/prompt.ts";
import { parseShard, type Shard } from "../pipeline/shard.ts";
import {
  backendFlag,
  BOX_SEARCH_USAGE,
  boxSearchFlag,
  choiceFlag,
  type CliIo,
  formatDuration,
  intFlag,
  numberFlag,
  parseFlags,
  smallGraphsFlag,
  TTA_USAGE,
  ttaFlag,
  UsageError,
} from "./common.ts";

/** Malformed records printed per detection file; the rest are counted at the end. */
const ISSUES_SHOWN = 20;

/** Usage text of the subcommand. */
export const SEGMENT_USAGE =
  `Usage: sopseg segment --images FILE|DIR --detections FILE|DIR|- --out DIR|- [options]

Segments every oriented detection into an instance mask. Writes <out>/<stem>.geojson (or
.fgb) per image and <out>/coco.json for the run, and <out>/sopseg-run.json (the model,
options, shard and images that made them); with --out - streams GeoJSON features (one per
line) to stdout.

Options:
  --images FILE|DIR       GeoTIFF, PNG or JPEG file, or a folder of them
  --detections FILE|DIR|- detection file, folder of files named after the images, or - (stdin:
                          one image's detections, or mmrotate results for a folder)
  --format F              auto (default), dota, yolo-obb, geojson, task1 (a folder of
                          Task1_<class>.txt result files, as mmrotate writes them),
                          mmrotate-json (mmrotate's <prefix>.bbox.json: one file, records
                          matched to images by image_id = file stem); dota also reads
                          "x1 .. y4 class score" lines (a detector's output)
  --angle-convention A    angle of mmrotate-json's [cx, cy, w, h, angle] boxes: the
                          detector's angle_version, le90 (mmrotate 1.x default), le135 or
                          oc (radians), or radians / degrees; required for such files
  --classes a,b,...       class names by id (YOLO-OBB, mmrotate-json category_id)
  --min-score S           leave out detections scored below S (unscored ones are kept)
  --out DIR|-             output folder, or - for newline-delimited GeoJSON on stdout
  --crs C                 coordinates of a georeferenced raster: wgs84 (longitude/latitude,
                          RFC 7946; default for GeoJSON) or raster (its own CRS; default
                          for fgb). Rasters without georeference are written in pixels
  --vector-format V       geojson (default) or fgb (FlatGeobuf, spatially indexed)
  --model DIR             model directory (default: models/sopseg-lite)
  --backend B             auto (default), wasm, webgpu
  --threads N             WASM threads (default: all cores; 1 for a run of a single batch,
                          where starting a second thread costs more than it saves)
  --sessions N            WASM sessions working on different batches at once, each with
                          threads/N threads (default: one per thread, at most one per
                          batch of the run; 1: one session sharing all threads, which
                          answers a single batch sooner)
  --batch N               crops per model call (default: 8)
  --prompt P              opm (default: 3 oriented points + box), box, points
  --class-prompt on|off   give the model each detection's class (default on; off: every
                          class unknown to it, e.g. when a detector's names mean other things)
  --small-graphs on|off|N run small crops (at most 96 px for the shipped model) on the
                          model's smaller, faster graphs (default: the model's choice,
                          small_graphs.default in its manifest); N: on, for the crops up to
                          N px (64: ships and vehicles a little better, slower)
${TTA_USAGE}
${BOX_SEARCH_USAGE}
  --simplify PX           polygon simplification tolerance in pixels (default: 0)
  --all-components        keep every mask component, not only those under the box
  --bands 1,2,3           raster bands to read as RGB (default: those a GeoTIFF tags red,
                          green, blue, else the first three)
  --overlay               also write <stem>.overlay.png for a visual check (with a world
                          file and CRS for a georeferenced raster: it lies on the map)
  --resume                skip images whose outputs exist and whose detections have not
                          changed since (those that changed are segmented again); refused
                          when --out holds a run made with another model, other options
                          (--overlay included) or another shard
  --shard I/N             segment only share I of N (I from 0): the same share on every
                          machine, balanced by detection count; one --out per shard, then
                          deno task merge (docs/SCALE.md)
  --quiet                 no progress lines

Exit codes: 0 done; 1 some images failed, or an input is missing (each on stderr; a retry
with --resume may help); 2 usage or configuration error: flags, no model, --out not a folder
or one whose outputs would replace an input, unreadable results, or input files left out that no retry segments (several files sharing a
stem, a link in a loop: the rest is written, and sopseg-run.json names them); a retry will
not help.
`;

/**
 * Run the subcommand; returns the exit code (0 ok, 1 some inputs failed: a retry may help,
 * 2 when nothing failed but input files were left out: a retry will not). Usage
 * errors are thrown as UsageError, a --resume into another run's folder as
 * RunRecordError, a run that cannot start as RunSetupError (all exit 2:
 * retrying will not help).
 */
export async function segmentCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      images: { type: "string" },
      detections: { type: "string" },
      format: { type: "string" },
      classes: { type: "string" },
      "angle-convention": { type: "string" },
      "min-score": { type: "string" },
      out: { type: "string" },
      crs: { type: "string" },
      "vector-format": { type: "string" },
      model: { type: "string" },
      backend: { type: "string" },
      threads: { type: "string" },
      sessions: { type: "string" },
      batch: { type: "string" },
      prompt: { type: "string" },
      "class-prompt": { type: "string" },
      "small-graphs": { type: "string" },
      tta: { type: "string" },
      "box-search": { type: "string" },
      simplify: { type: "string" },
      "all-components": { type: "boolean" },
      bands: { type: "string" },
      overlay: { type: "boolean" },
      resume: { type: "boolean" },
      shard: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(SEGMENT_USAGE);
    return 0;
  }
  for (const required of ["images", "detections", "out"] as const) {
    if (!values[required]) throw new UsageError(`--${required} is required`);
  }
  const format = choiceFlag("format", values.format, RESULTS_DETECTION_FORMATS, "auto");
  const angleConvention = values["angle-convention"] === undefined
    ? undefined
    : choiceFlag("angle-convention", values["angle-convention"], ANGLE_CONVENTIONS, "le90");
  const crs = values.crs === undefined
    ? undefined
    : choiceFlag<"raster" | "wgs84">("crs", values.crs, ["raster", "wgs84"], "wgs84");
  const vectorFormat = choiceFlag<"geojson" | "fgb">(
    "vector-format",
    values["vector-format"],
    ["geojson", "fgb"],
    "geojson",
  );
  const minScore = values["min-score"] === undefined
    ? undefined
    : numberFlag("min-score", values["min-score"], 0);
  const promptMode = choiceFlag<PromptMode>(
    "prompt",
    values.prompt,
    ["opm", "box", "points"],
    "opm",
  );
  const classPrompt = choiceFlag("class-prompt", values["class-prompt"], ["on", "off"], "on") ===
    "on";
  const smallGraphs = smallGraphsFlag("small-graphs", values["small-graphs"]);
  const tta = ttaFlag(values.tta);
  const boxSearch = boxSearchFlag(values["box-search"]);
  const backend = backendFlag(values.backend);
  const threads = intFlag("threads", values.threads, navigator.hardwareConcurrency ?? 1);
  const sessions = intFlag("sessions", values.sessions, threads);
  const batchSize = intFlag("batch", values.batch, 8);
  const simplify = numberFlag("simplify", values.simplify, 0);
  let bands: number[] | undefined;
  if (values.bands) {
    bands = values.bands.split(",").map((b) => Number(b));
    if (
      bands.some((b) => !Number.isInteger(b) || b < 1) || bands.length === 2 || bands.length > 3
    ) {
      throw new UsageError(
        `--bands must be one or three 1-based band numbers (grey, or R,G,B like 4,3,2), got "${values.bands}"`,
      );
    }
  }
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    try {
      shard = parseShard(values.shard);
    } catch (e) {
      throw new UsageError(`--shard: ${(e as Error).message}`);
    }
  }
  const toStdout = values.out === "-";
  if (toStdout && (values.overlay || values.resume)) {
    throw new UsageError("--overlay and --resume need an output folder, not --out -");
  }
  if (toStdout && vectorFormat === "fgb") {
    throw new UsageError("--vector-format fgb needs an output folder, not --out -");
  }
  const fromStdin = values.detections === "-";
  if (fromStdin && format === "task1") {
    throw new UsageError(
      "--format task1 reads files (--detections Task1_<class>.txt or their folder): the class is in the file name, which stdin does not have",
    );
  }
  const quiet = values.quiet ?? false;

  // Opened once the run has counted its work: by default no more sessions than batches,
  // and one thread for a single batch (a few-box run pays neither for a second worker nor
  // for onnxruntime's second WASM thread: BENCHMARKS.md, cold start).
  let model: SopsegModel | undefined;
  const openModel = async (work: { batches: number }) => {
    model = await SopsegModel.load(values.model ?? DEFAULT_MODEL_DIR, {
      backend,
      threads: values.threads === undefined && work.batches <= 1 ? 1 : threads,
      sessions: values.sessions !== undefined
        ? sessions
        : Math.max(1, Math.min(sessions, work.batches)),
      batches: work.batches,
      smallGraphs,
      tta,
      // --quiet: the backend is in the closing line; a failure or disagreement still shows
      onLog: (m) => {
        if (!quiet || /warning|error|fail|disagree/.test(m)) io.stderr(`sopseg: ${m}\n`);
      },
    });
    if (backend !== "auto" && !quiet) {
      io.stderr(`sopseg: backend ${model.backend} (${model.backendReason})\n`);
    }
    return model;
  };

  let failed = 0;
  const failedImages: string[] = [];
  let leftOut = 0; // input files that could not be paired or read
  let lastDraw = 0;
  let rateFrom: { t: number; n: number } | null = null;
  let totalBoxes = 0;
  let doneBefore = 0;
  // Images in progress (several at once with several model sessions), by name.
  const current = new Map<string, { done: number; boxes: number }>();
  const drawProgress = (force: boolean) => {
    if (quiet || current.size === 0) return;
    const now = performance.now();
    if (!force && now - lastDraw < (io.stderrIsTerminal ? 250 : 5000)) return;
    lastDraw = now;
    let done = 0, boxes = 0;
    for (const c of current.values()) {
      done += c.done;
      boxes += c.boxes;
    }
    const instances = doneBefore + done;
    // the rate from the first batch done on, not from the start: the model's loading and the
    // first image's read would make the first estimates ten times too long
    rateFrom ??= { t: now, n: instances };
    const rate = (instances - rateFrom.n) / ((now - rateFrom.t) / 1e3);
    const known = rate > 0 && Number.isFinite(rate);
    const line = `sopseg: ${[...current.keys()].join(", ")} ${done}/${boxes} boxes, ` +
      `${instances} instances, ` +
      (known
        ? `${rate.toFixed(1)} inst/s, image ETA ${formatDuration((boxes - done) / rate)}`
        : "timing the next batch");
    io.stderr(io.stderrIsTerminal ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const clearLine = () => {
    if (!quiet && io.stderrIsTerminal) io.stderr("\r\x1b[2K");
  };
  const issuesBySource = new Map<string, number>();
  const onEvent = (e: RunEvent) => {
    switch (e.kind) {
      case "issue": {
        failed++;
        // A file of thousands of bad records (another format, the wrong angle convention)
        // would bury everything else: the first ISSUES_SHOWN per file, then a count.
        const n = (issuesBySource.get(e.issue.source) ?? 0) + 1;
        issuesBySource.set(e.issue.source, n);
        if (n > ISSUES_SHOWN) break;
        clearLine();
        // records of JSON formats have no line; their message names the record
        io.stderr(
          `${e.issue.source}${
            e.issue.line ? `:${e.issue.line}` : ""
          }: ${e.issue.message} (skipped)\n`,
        );
        break;
      }
      case "warning":
        clearLine();
        io.stderr(`sopseg: warning: ${e.message}\n`);
        break;
      case "results-reading":
        if (!quiet) io.stderr(`sopseg: reading ${e.what} (${e.source})\n`);
        break;
      case "results-read":
        if (!quiet) {
          io.stderr(
            `sopseg: ${e.detections} detections${
              minScore === undefined ? "" : ` scored ${minScore} or more (or unscored)`
            } of ${e.imageIds} image id(s) in ${e.what}, ` +
              `read in ${e.seconds.toFixed(1)} s\n`,
          );
        }
        break;
      case "image-start":
        current.set(e.image, { done: 0, boxes: e.boxes });
        totalBoxes += e.boxes;
        if (!quiet) {
          clearLine();
          io.stderr(`sopseg: [${e.index + 1}/${e.total}] ${e.image}: ${e.boxes} detections\n`);
        }
        break;
      case "progress": {
        const c = current.get(e.image);
        if (c) c.done = e.done;
        drawProgress(false);
        break;
      }
      case "image-done":
        doneBefore += current.get(e.image)?.done ?? 0;
        current.delete(e.image);
        if (!quiet) {
          clearLine();
          io.stderr(
            `sopseg: ${e.image}: ${e.instances} masks in ${e.seconds.toFixed(1)} s (${
              (e.instances / Math.max(e.seconds, 1e-9)).toFixed(1)
            } inst/s)\n`,
          );
        }
        break;
      case "image-skipped":
        if (!quiet) io.stderr(`sopseg: ${e.image}: skipped, ${e.reason}\n`);
        break;
      case "image-failed":
        failed++;
        failedImages.push(e.image);
        current.delete(e.image);
        clearLine();
        io.stderr(`sopseg: error: ${e.image}: ${e.message}\n`);
        break;
    }
  };

  // `--out - | head -1`: the reader went away; the run stops, as a Unix filter does, without
  // calling that a failure
  const stop = new AbortController();
  let stdoutClosed = false;
  const writeFeature = (feature: Parameters<typeof featureToNdjsonLine>[0]) => {
    if (stdoutClosed) return;
    try {
      io.stdout(featureToNdjsonLine(feature));
    } catch (e) {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      stdoutClosed = true;
      stop.abort();
    }
  };
  try {
    const summary = await segmentRun(openModel, {
      images: values.images!,
      detections: fromStdin
        ? { kind: "text", text: await io.readStdin(), source: "<stdin>" }
        : { kind: "path", path: values.detections! },
      format,
      angleConvention,
      classNames: values.classes?.split(",").map((c) => c.trim()), // "plane, ship" as pasted
      minScore,
      crs,
      vectorFormat,
      out: toStdout ? null : values.out!,
      onFeature: writeFeature,
      signal: stop.signal,
      overlay: values.overlay,
      resume: values.resume,
      shard,
      bands,
      batchSize,
      promptMode,
      classPrompt,
      boxSearch,
      simplify,
      keepPromptComponents: !values["all-components"],
      onEvent,
    }).catch((e) => {
      if (stdoutClosed) return null;
      // the file needs an option the command line did not give: a usage error (exit 2)
      throw e instanceof AngleConventionError ? new UsageError(e.message) : e;
    });
    if (summary === null) {
      clearLine();
      if (!quiet) io.stderr("sopseg: stdout was closed by its reader: stopped\n");
      return 0;
    }
    clearLine();
    io.stderr(
      `sopseg: done: ${summary.instances} masks on ${summary.imagesDone} image(s) in ${
        summary.seconds.toFixed(1)
      } s (${(summary.instances / Math.max(summary.seconds, 1e-9)).toFixed(1)} inst/s, ${
        model!.backend // opened by segmentRun before it returns
      })` +
        (summary.imagesSkipped ? `, ${summary.imagesSkipped} skipped` : "") +
        (summary.imagesFailed
          ? `, ${summary.imagesFailed} failed (${failedImages.slice(0, 5).join(", ")}${
            failedImages.length > 5 ? ", ..." : ""
          })`
          : "") +
        (summary.issues ? `, ${summary.issues} malformed detection(s) skipped` : "") +
        (summary.inputsLeftOut
          ? `, ${summary.inputsLeftOut} input file(s) left out (a retry will not segment them)`
          : "") +
        (toStdout ? "" : `; wrote ${values.out}`) + "\n",
    );
    if (boxSearch !== undefined) {
      const { searched, moved } = summary.boxSearch;
      io.stderr(
        `sopseg: box search: ${searched} box(es) searched (crops on the main graphs), ` +
          `${moved} mask(s) from a moved box\n`,
      );
    }
    const outside = Object.entries(summary.outsideTrainingClasses);
    if (outside.length > 0) {
      const n = outside.reduce((t, [, c]) => t + c, 0);
      io.stderr(
        `sopseg: note: ${n} instance(s) of classes the model was not trained on (${
          outside.map(([c, k]) => `${c} ${k}`).join(", ")
        }): segmented, flagged in_training_classes: false; expect rougher masks\n`,
      );
    }
    const ids = Object.entries(summary.bareClassIds);
    if (ids.length > 0) {
      const n = ids.reduce((t, [, c]) => t + c, 0);
      io.stderr(
        `sopseg: note: ${n} instance(s) with a class id for a class (${
          ids.map(([c, k]) => `id ${c}: ${k}`).join(", ")
        }): the model was told their class is unknown; give the detector's class names in ` +
          `id order with --classes (the class prompt helps: README, model card)\n`,
      );
    }
    leftOut = summary.inputsLeftOut;
    void totalBoxes;
  } finally {
    await model?.close();
    for (const [source, n] of issuesBySource) {
      if (n <= ISSUES_SHOWN) continue;
      io.stderr(
        `sopseg: ${source}: ${n} malformed record(s) in all, skipped; the first ` +
          `${ISSUES_SHOWN} are shown above\n`,
      );
    }
  }
  // what a retry may fix first: a scheduler retries exit 1, and stops on 2
  return failed > 0 ? 1 : leftOut > 0 ? 2 : 0;
}
