/**
 * One benchmark measurement in its own process (WASM threads and peak memory
 * are per process): runs the real segment pipeline with one setting and
 * prints one JSON line on stdout.
 *
 *     deno run -A bench/bench_run.ts --backend wasm --threads 2 --batch 8 \
 *       --images DIR|FILE --detections DIR|FILE [--model DIR] [--small-graphs on|off|N]
 *       [--tta off|main|all] [--box-search off|on|S,M]
 *
 * `--small-graphs on`: the crops that fit run on the model's small graphs (default: the
 * model's `small_graphs.default`); N: on, for the crops up to N px.
 *
 * `--backend native` runs the same encoder/decoder graphs on onnxruntime-node
 * (the native CPU build) over batches of the same shape: the hardware
 * reference for the two model calls.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { boxSearchFlag, smallGraphsFlag, ttaFlag } from "../src/cli/common.ts";
import { SopsegModel } from "../src/model/sopseg_model.ts";
import { segmentRun } from "../src/pipeline/segment_run.ts";
import { newTimings } from "../src/pipeline/timings.ts";
import { DEFAULT_MODEL_DIR } from "../src/model/default_model.ts";
import { loadManifest } from "../src/model/manifest.ts";

function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "wasm" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    sessions: { type: "string", default: "1" },
    batch: { type: "string", default: "8" },
    images: { type: "string" },
    detections: { type: "string" },
    model: { type: "string", default: DEFAULT_MODEL_DIR },
    instances: { type: "string", default: "256" },
    "small-graphs": { type: "string" },
    tta: { type: "string" },
    "box-search": { type: "string" },
  },
});
const threads = Number(values.threads);
const batch = Number(values.batch);
if (Number(values.sessions) > threads) {
  // --threads is the total: each of the sessions gets threads / sessions of them
  throw new RangeError(`--sessions ${values.sessions} needs --threads ${values.sessions} or more`);
}

if (values.backend === "native") {
  // Model calls only, on the native CPU build, same graphs and batch shapes.
  // A full specifier, not an import map entry: the native build (and its
  // install script) stays out of the user's path; only this benchmark loads it.
  // deno-lint-ignore no-import-prefix
  const ort = await import("npm:onnxruntime-node@1.30.0");
  const manifest = await loadManifest(values.model!);
  const opts = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all" as const,
  };
  const enc = await ort.InferenceSession.create(`${values.model}/${manifest.encoder.file}`, opts);
  const dec = await ort.InferenceSession.create(`${values.model}/${manifest.decoder.file}`, opts);
  const { checkBatch, promptFeeds } = await import("../src/model/sopseg_model.ts");
  const b = checkBatch(manifest, batch);
  const prompt = Object.fromEntries(
    Object.entries(promptFeeds(manifest, b)).map((
      [k, v],
    ) => [k, new ort.Tensor("float32", v.data, [...v.dims])]),
  );
  const n = manifest.inputSize;
  const image = new ort.Tensor("float32", b.images, [batch, 3, n, n]);
  const feeds = async () => {
    const t0 = performance.now();
    const e = await enc.run({ image });
    const t1 = performance.now();
    await dec.run({
      image,
      image_embeddings: e.image_embeddings!,
      shallow_features: e.shallow_features!,
      ...prompt,
    });
    return [(t1 - t0) / 1e3, (performance.now() - t1) / 1e3];
  };
  await feeds();
  const total = Number(values.instances);
  let encS = 0, decS = 0, done = 0;
  while (done < total) {
    const [a, d] = await feeds();
    encS += a!;
    decS += d!;
    done += batch;
  }
  console.log(JSON.stringify({
    backend: "native",
    threads,
    batch,
    instances: done,
    seconds: encS + decS,
    timings: { encoder: encS, decoder: decS },
    peakRssMb: peakRssMb(),
  }));
  Deno.exit(0);
}

const model = await SopsegModel.load(values.model!, {
  backend: values.backend as "wasm" | "webgpu",
  threads,
  sessions: Number(values.sessions),
  smallGraphs: smallGraphsFlag("small-graphs", values["small-graphs"]),
  tta: ttaFlag(values.tta),
});
// The timed run starts with every graph set's sessions open, as it did when a load opened
// them all: a model with small graphs opens each set on its first batch (a one-box run needs
// one), which would put the runtime's start and the session creation (about a second here)
// inside the timed run for that setting only. Start-up has its own rows (whole process,
// cold start). The first runs' extra cost stays inside the timed run, as before.
const openStart = performance.now();
await model.openGraphSets();
const openSeconds = (performance.now() - openStart) / 1e3;
const out = await Deno.makeTempDir({ prefix: "sopseg-bench-" });
const timings = newTimings();
try {
  // Warm-up: one batch, so session start-up is not counted.
  const summary = await segmentRun(model, {
    images: values.images!,
    detections: { kind: "path", path: values.detections! },
    out,
    batchSize: batch,
    boxSearch: boxSearchFlag(values["box-search"]),
    timings,
  });
  console.log(JSON.stringify({
    backend: model.backend,
    threads,
    sessions: model.concurrency,
    smallGraphs: model.manifest.smallGraphs?.inputSize ?? null,
    smallMaxCropSide: model.manifest.smallGraphs?.maxCropSide ?? null,
    tta: model.tta,
    boxSearch: values["box-search"] ?? "off",
    batch,
    instances: summary.instances,
    seconds: summary.seconds,
    openSeconds,
    timings,
    peakRssMb: peakRssMb(),
    failed: summary.imagesFailed,
  }));
} finally {
  await model.close();
  await Deno.remove(out, { recursive: true });
}
