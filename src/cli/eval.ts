/**
 * `sopseg eval`: score masks against COCO ground truth, per class and by
 * object size (IoU and Boundary IoU, METHOD.md section 6), with the model or
 * a prompt-filling baseline.
 *
 * @module
 */
import { annotatedCategoryIds, readCocoGt } from "../eval/coco_gt.ts";
import { type EvalDetections, evaluate, type SegmentFn } from "../eval/run_eval.ts";
import { openEvalDetections } from "../eval/detections_source.ts";
import { normalizeClassName } from "../eval/class_map.ts";
import { loadManifest, modelFilesSha256 } from "../model/manifest.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { TrainingClasses } from "../model/model_classes.ts";
import { DEFAULT_FLIP_TTA } from "../model/flip_tta.ts";
import { AngleConventionError } from "../formats/mmrotate_json.ts";
import { formatJsonReport, formatMarkdownReport, formatTextReport } from "../eval/report.ts";
import { writeFileAtomic } from "../formats/atomic_write.ts";
import { SopsegModel } from "../model/sopseg_model.ts";
import { DEFAULT_MODEL_DIR } from "../model/default_model.ts";
import { modelSegmentFn } from "../pipeline/model_segment_fn.ts";
import { parseEvalArgs } from "./eval_args.ts";
import { dirname } from "node:path";
import { RunSetupError } from "../pipeline/segment_run.ts";
import { MissingInputError } from "../pipeline/results_input.ts";
import { backendFlag, BOX_SEARCH_USAGE, type CliIo, UsageError } from "./common.ts";

/** Side in pixels of the fixed context crop that `--no-ram` uses instead of RAM. */
export const FIXED_CONTEXT = 128;

/** Usage text of the subcommand. */
export const EVAL_USAGE = `Usage: sopseg eval --gt annotations.json[.gz] --images DIR [options]

Derives an oriented-box prompt for every ground-truth instance (min-area rectangle of its
polygon), segments it with the same pipeline as "segment", and prints IoU and Boundary IoU
per class, mIoU / mBIoU over classes and the means over all instances; then the same by object
size, the long side of that rectangle before any noise (<64, 64-256, >=256 px): IoU per class
and bin, and per bin mIoU / mBIoU and the means over its instances ("bySize" in --out-json).

Options:
  --gt FILE                COCO ground truth (plain or gzipped)
  --images DIR             folder of the GT's images
  --baseline B             score the prompt itself: hbox-fill or obb-fill (no model)
  --classes a,b,...        classes to score (names map across datasets: airplane = plane, ...)
  --class-groups g=a+b;... class groups, each scored where --classes names it
  --model DIR              model directory (default: models/sopseg-lite)
  --backend B              auto (default), wasm, webgpu
  --threads N, --batch N   WASM threads, crops per model call (default 8)
  --sessions N             WASM sessions on different batches (default: one per thread)
  --no-ram                 ablation: fixed ${FIXED_CONTEXT}-px context crop instead of RAM
  --box-only               ablation: box prompt only, no oriented points
  --no-class-prompt        ablation: the model is not given the instances' classes (a model
                           with a class prompt then sees every class as unknown)
  --prompt-class-swap A=B,...  ablation: tell the model class B for GT class A (a detector's
                           confusions); scores stay under the GT class
  --small-graphs on|off|N  run the crops that fit on the model's small, faster graphs
                           (default: the model's choice, small_graphs.default in its manifest);
                           N: on, for the crops up to N px (64: small objects a little better, slower)
  --prompt-noise SPEC      seeded detector-like noise: a preset (default, heavy, tight1, loose1,
                           corners; e.g. heavy,seed=1) or shift=0.1,scale=0.1,angle=5,seed=0
  --image-degrade SPEC     seeded degradation of each image before the model reads it (the GT
                           unchanged): a preset (lowres, blur, jpeg, sensor; e.g. sensor,seed=1)
                           or resolution=2,blur=1.2,gain=0.1,gamma=1.3,noise=4,jpeg=50,seed=0
  --max-images N           only the first N images
  --max-per-class N        only the first N instances of each class (image order)
  --refine-passes N        N more passes, each prompted with the box of the last pass's mask
${BOX_SEARCH_USAGE}
                           (the given box where that mask is empty)
  --tta off|main|all       also run crops mirrored, masks averaged (main: the crops on the
                           main graphs; all: every crop); default: ${DEFAULT_FLIP_TTA}
  --out-json F, --out-md F, --out-coco F   write the report / COCO results

A detector's boxes instead of the GT's (how masks come out with that detector):
  --detections PATH        a folder of per-image files named after the GT images (DOTA, YOLO-OBB,
                           GeoJSON in pixels), or Task1 / mmrotate JSON results; each detection
                           is matched to the GT instance of its class it overlaps most (rotated
                           IoU), from the highest score; the scores are over the matched
                           instances, and the report counts GT, detections, matched per class
  --match-iou X            rotated IoU a match needs (default 0.5, DOTA's)
  --detection-format F     auto (default), dota, yolo-obb, geojson, task1, mmrotate-json
  --detection-classes a,b  class names by id (YOLO-OBB class, mmrotate category_id)
  --angle-convention C     le90, le135, oc, radians, degrees (mmrotate's [cx, cy, w, h, angle])
  --min-score S            leave out detections scored below S
`;

/** Run the subcommand; returns the exit code. */
export async function evalCommand(args: string[], io: CliIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(EVAL_USAGE);
    return 0;
  }
  let a;
  try {
    a = parseEvalArgs(args);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const backend = backendFlag(a.backend);
  // outputs' folders first: a report is not to be lost after a long evaluation
  for (
    const [flag, file] of [["--out-json", a.outJson], ["--out-md", a.outMd], [
      "--out-coco",
      a.outCoco,
    ]] as const
  ) {
    const dir = file === null ? null : dirname(file);
    if (dir !== null && !(await Deno.stat(dir).then((s) => s.isDirectory, () => false))) {
      throw new RunSetupError(`Cannot write ${flag} ${file}: no folder ${dir}`);
    }
  }
  const gt = await readCocoGt(a.gt).catch((e) => {
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingInputError(`Cannot read --gt ${a.gt}: no such file`);
    }
    throw e;
  });
  if (a.baseline === null) {
    // every image to segment is there, before the model starts: one missing near the end
    // would otherwise throw away an hour of work
    const wanted = gt.images.slice(0, a.maxImages ?? gt.images.length).map((i) => i.fileName);
    const missing: string[] = [];
    for (const name of wanted) {
      if (!(await Deno.stat(`${a.images}/${name}`).then((s) => s.isFile, () => false))) {
        missing.push(name);
      }
    }
    if (missing.length > 0) {
      throw new RunSetupError(
        `Cannot evaluate: ${missing.length} of the ${wanted.length} image(s) the GT needs are ` +
          `not in --images ${a.images} (${missing.slice(0, 5).join(", ")}${
            missing.length > 5 ? ", ..." : ""
          }); give the folder that holds them, or --max-images`,
      );
    }
  }
  let model: SopsegModel | null = null;
  let segment: SegmentFn | undefined;
  if (a.baseline === null) {
    model = await SopsegModel.load(a.model ?? DEFAULT_MODEL_DIR, {
      backend,
      threads: a.threads ?? undefined,
      sessions: a.sessions ?? a.threads ?? navigator.hardwareConcurrency,
      smallGraphs: a.smallGraphs,
      tta: a.tta,
      onLog: (m) => io.stderr(`sopseg: ${m}\n`),
    }).catch((e) => {
      // no model there, or one that cannot run: a retry will not help (exit 2)
      throw e instanceof Deno.errors.NotCapable ? e : new RunSetupError(e.message, { cause: e });
    });
    segment = modelSegmentFn(model, {
      imagesDir: a.images!,
      batchSize: a.batch,
      promptMode: a.boxOnly ? "box" : "opm",
      classPrompt: !a.noClassPrompt,
      promptClassOf: (c) => a.promptClassSwap[c] ?? c,
      crop: a.noRam ? FIXED_CONTEXT : "ram",
      refinePasses: a.refinePasses,
      boxSearch: a.boxSearch ?? undefined,
      imageDegrade: a.imageDegrade ?? undefined,
    });
  }
  let issues = 0;
  let detections: EvalDetections | undefined;
  if (a.detections !== null) {
    const classes = model?.trainingClasses ??
      (await loadManifest(a.model ?? DEFAULT_MODEL_DIR).then((m) =>
        m.classes ? new TrainingClasses(m.classes) : null
      ));
    try {
      detections = await openEvalDetections(a.detections.path, {
        ...a.detections,
        classOf: (name) => classes?.canonical(name) ?? normalizeClassName(name),
        onIssue: (issue) => {
          issues++;
          const where = issue.line > 0 ? `:${issue.line}` : "";
          io.stderr(`${issue.source}${where}: ${issue.message}\n`);
        },
        gtImages: gt.images.map((i) => i.fileName),
        onWarning: (m) => io.stderr(`sopseg: warning: ${m}\n`),
      });
    } catch (e) {
      await model?.close();
      // the file needs an option the command line did not give: a usage error (exit 2)
      if (e instanceof AngleConventionError) throw new UsageError(e.message);
      // nothing in them to score against this ground truth: a retry will not help (exit 2)
      throw e instanceof TypeError && !(e instanceof MissingInputError)
        ? new RunSetupError(e.message, { cause: e })
        : e;
    }
  }
  let last = 0;
  const started = performance.now();
  try {
    const { report, results } = await evaluate(gt, {
      detections,
      segment,
      concurrency: model?.concurrency,
      baseline: a.baseline ?? undefined,
      classes: a.classes.length ? a.classes : undefined,
      classGroups: a.classGroups,
      promptNoise: a.promptNoise ?? undefined,
      imageDegrade: a.imageDegrade ?? undefined,
      maxImages: a.maxImages ?? undefined,
      maxPerClass: a.maxPerClass ?? undefined,
      dilationRatio: a.dilationRatio,
      cocoResults: a.outCoco !== null,
      settings: {
        // how the report was made: rerun the command to get it again
        command: `deno task eval ${args.map(shellWord).join(" ")}`,
        sopseg_version: denoJson.version,
        date: new Date().toISOString(),
        model: model ? model.manifest.name : null,
        model_dir: model ? model.manifest.dir : null,
        model_manifest_sha256: model
          ? (await modelFilesSha256(model.manifest))["manifest.json"] ?? null
          : null,
        backend: model ? model.backend : null,
        ram: a.noRam
          ? `fixed ${FIXED_CONTEXT} px`
          : model?.manifest.ram.context
          ? `ram, context ${model.manifest.ram.context}`
          : "ram",
        prompt: a.boxOnly ? "box" : "opm",
        class_prompt: model?.manifest.classPrompt ? !a.noClassPrompt : null,
        // GT class -> the class the model was told instead (an ablation), when any
        ...(Object.keys(a.promptClassSwap).length ? { prompt_class_swap: a.promptClassSwap } : {}),
        // the input size of the small graphs the crops that fit ran on, or null: none
        small_graphs: model?.manifest.smallGraphs?.inputSize ?? null,
        // the crops up to this side (source pixels) ran on the small graphs
        small_max_crop_side: model?.manifest.smallGraphs?.maxCropSide ?? null,
        max_per_class: a.maxPerClass,
        refine_passes: a.refinePasses,
        box_search: a.boxSearch,
        tta: model?.tta ?? null,
      },
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 5000 && p.images < p.totalImages) return;
        last = now;
        const rate = p.instances / ((now - started) / 1e3);
        io.stderr(
          `sopseg eval: ${p.images}/${p.totalImages} images, ${p.instances} instances, ${
            rate.toFixed(1)
          } inst/s\n`,
        );
      },
    });
    const empty = report.summary.classes.filter((c) => c.instances === 0).map((c) => c.className);
    if (empty.length > 0) {
      const annotated = annotatedCategoryIds(gt);
      const never = new Set(
        gt.categories.filter((c) => !annotated.has(c.id)).map((c) => c.name),
      );
      const absent = empty.filter((c) => never.has(c));
      io.stderr(
        `sopseg: warning: no instance of ${empty.join(", ")} was scored in the evaluated ` +
          `images: ${empty.length > 1 ? "they are" : "it is"} left out of the mean` +
          (absent.length
            ? ` (${a.gt} lists ${absent.join(", ")} among its categories but annotates none)`
            : "") +
          "\n",
      );
    }
    // with GT prompts, nothing scored is a wrong selection; a detector matching nothing is a result
    if (detections === undefined && report.summary.classes.every((c) => c.instances === 0)) {
      io.stdout(formatTextReport(report));
      throw new RunSetupError(
        `Cannot evaluate: not one instance was scored (classes ${
          report.summary.classes.map((c) => c.className).join(", ") || "none"
        } in ${report.images} image(s) of ${a.gt})`,
      );
    }
    io.stdout(formatTextReport(report));
    if (a.outJson) await writeFileAtomic(a.outJson, formatJsonReport(report));
    if (a.outMd) await writeFileAtomic(a.outMd, formatMarkdownReport(report));
    if (a.outCoco) await writeFileAtomic(a.outCoco, JSON.stringify(results));
  } finally {
    await model?.close();
  }
  if (issues > 0) {
    io.stderr(`sopseg eval: ${issues} detection record(s) could not be read and were left out\n`);
    return 1;
  }
  return 0;
}

/** `word` as a shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
