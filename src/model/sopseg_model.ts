/**
 * A loaded SOPSeg model: encoder and decoder sessions on one backend, created
 * once and reused for every batch.
 *
 * @module
 */
import { type BackendChoice, type BackendName, parseBackendChoice } from "./backends.ts";
import {
  createGraphRunner,
  type Float32Tensor,
  type GraphRunner,
  probeWebGpu,
} from "./ort_adapter.ts";
import {
  type ClassPromptSpec,
  graphFiles,
  type GraphSet,
  graphSets,
  loadManifest,
  modelFilesSha256,
  type ModelManifest,
} from "./manifest.ts";
import { TrainingClasses } from "./model_classes.ts";
import {
  compareOutputs,
  type OutputDifference,
  PARITY_TOLERANCE,
  type ParityResult,
} from "./parity.ts";
import { mulberry32 } from "../random.ts";
import { SessionPool } from "./session_pool.ts";
import { averageMirrors, DEFAULT_FLIP_TTA, type FlipTta, withMirrors } from "./flip_tta.ts";

/** Options of {@linkcode SopsegModel.load}. */
export interface ModelLoadOptions {
  /** `auto`, `wasm` or `webgpu`. Default: `"auto"`. */
  backend?: BackendChoice;
  /** WASM threads. Default: all cores (`navigator.hardwareConcurrency`). */
  threads?: number;
  /**
   * WASM: run this many session pairs in workers, each with `threads / sessions`
   * threads, on different batches at once ({@linkcode SessionPool}). One
   * session with all the threads answers a single batch sooner (a server's
   * one-box request); several single-threaded sessions get through many
   * batches faster (BENCHMARKS.md). Default: 1.
   */
  sessions?: number;
  /**
   * How many batches the caller will run, when it knows. With `auto` and at most one
   * batch, WASM is used without asking for a WebGPU adapter: choosing WebGPU means a
   * self-check that runs a batch on WASM as well as on WebGPU, so for a single batch it
   * can only be slower than running that batch on WASM (a one-box run's cold start:
   * BENCHMARKS.md). Default: unknown (`auto` probes).
   */
  batches?: number;
  /** Relative tolerance of the WebGPU-vs-WASM self-check. Default: {@linkcode PARITY_TOLERANCE}. */
  parityTolerance?: number;
  /**
   * Let `auto` consider a software WebGPU adapter (llvmpipe and the like).
   * They compute correctly but far slower than WASM, so `auto` skips them
   * unless this is set (tests of the self-check set it). Default: false.
   */
  allowSoftwareWebGpu?: boolean;
  /** Receives one-line notes (which backend and why). Default: ignored. */
  onLog?: (message: string) => void;
  /**
   * Start hashing the model's files ({@linkcode modelFilesSha256}) while the sessions are
   * created, for a run record to come. Default: true (the session pool's workers: false).
   */
  hashFiles?: boolean;
  /**
   * Use the model's small graphs (`small_graphs` in its manifest) for the crops they are
   * for ({@linkcode SopsegModel.inputSizeFor}): faster, a little less accurate on small
   * objects (the shipped model's: model card). Default: the manifest's `small_graphs.default`
   * (false when absent: every crop on the main graphs). A number: on, for the crops up to
   * that many source pixels instead of the manifest's `small_graphs.max_crop_side` (a lower
   * one sends more crops to the main graphs: slower, and for the shipped model more accurate).
   */
  smallGraphs?: boolean | number;
  /**
   * Test-time augmentation ({@linkcode FlipTta}): the crops also run mirrored left to
   * right, the two masks averaged (model/flip_tta.ts). `main`: the crops on the main
   * graphs (the larger objects; on a scene of vehicles few crops, so little time);
   * `all`: every crop (twice the model calls). Default: {@linkcode DEFAULT_FLIP_TTA}.
   */
  tta?: FlipTta;
}

/** A batch of prepared instances, tensors laid out as the graphs take them. */
export interface PromptBatch {
  /** Number of instances, `B`. */
  readonly size: number;
  /**
   * The side `S` of the crops: the input size of the graph set to run (the manifest's, or
   * its small graphs'). Default: the manifest's `inputSize`.
   */
  readonly inputSize?: number;
  /** `float32[B,3,S,S]`, normalised crops. */
  readonly images: Float32Array;
  /** `float32[B,5,2]`, model-frame prompt coordinates. */
  readonly coords: Float32Array;
  /** `float32[B,5]`, prompt labels. */
  readonly labels: Float32Array;
  /**
   * `int32[B]`, each instance's class prompt index ({@linkcode SopsegModel.classPromptIndex});
   * absent: every instance's class is unknown. Ignored by a model without a class prompt.
   */
  readonly classes?: Int32Array;
}

/** What the model returns for a batch. */
export interface BatchPrediction {
  /** `float32[B,1,S,S]` mask logits in the model frame. */
  readonly maskLogits: Float32Array;
  /** `float32[B]` predicted mask IoU. */
  readonly iou: Float32Array;
  /** Seconds spent in the encoder and the decoder for this batch. */
  readonly timing: { encoder: number; decoder: number };
}

interface Pair {
  encoder: GraphRunner;
  decoder: GraphRunner;
}

async function openPair(
  manifest: ModelManifest,
  set: GraphSet,
  backend: BackendName,
  threads: number,
): Promise<Pair> {
  // WASM: the pre-optimised graphs when the model has them (the optimiser's work and its
  // first-call compilation are half a second of a cold start).
  const files = graphFiles(set, backend === "wasm");
  const encoder = await createGraphRunner(await readGraph(manifest, files.encoder), {
    backend,
    threads,
    preoptimized: files.preoptimized,
    label: `${manifest.dir}/${files.encoder}`,
  });
  const decoder = await createGraphRunner(await readGraph(manifest, files.decoder), {
    backend,
    threads,
    preoptimized: files.preoptimized,
    label: `${manifest.dir}/${files.decoder}`,
  });
  for (
    const [runner, spec, name] of [[encoder, set.encoder, "encoder"], [
      decoder,
      set.decoder,
      "decoder",
    ]] as const
  ) {
    const declared = [
      ["input", Object.keys(spec.inputs), runner.inputNames],
      ["output", Object.keys(spec.outputs), runner.outputNames],
    ] as const;
    for (const [kind, wanted, has] of declared) {
      const missing = wanted.find((t) => !has.includes(t));
      if (missing !== undefined) {
        throw new TypeError(
          `Cannot load model ${manifest.dir}: the ${name} graph has no ${kind} "${missing}" named in manifest.json (it has ${
            has.join(", ")
          })`,
        );
      }
    }
  }
  return { encoder, decoder };
}

/**
 * The session pairs of a model's graph sets on one backend, by input size, each opened on
 * its first batch unless given: a run that needs one set only (a one-box run, a batch of
 * small objects) does not pay for creating the other's sessions.
 */
class Pairs {
  readonly #manifest: ModelManifest;
  readonly #backend: BackendName;
  readonly #threads: number;
  readonly #open = new Map<number, Promise<Pair>>();

  /** `first`: a pair already opened, of the set of input size `firstSize` (default: the main). */
  constructor(
    manifest: ModelManifest,
    backend: BackendName,
    threads: number,
    first?: Pair,
    firstSize = manifest.inputSize,
  ) {
    this.#manifest = manifest;
    this.#backend = backend;
    this.#threads = threads;
    if (first) this.#open.set(firstSize, Promise.resolve(first));
  }

  /** Open every set's pair now (the WebGPU self-check compares them all). */
  async openAll(sets: readonly GraphSet[]): Promise<void> {
    for (const set of sets) await this.get(set.inputSize);
  }

  get(inputSize: number): Promise<Pair> {
    let p = this.#open.get(inputSize);
    if (p === undefined) {
      const set = graphSets(this.#manifest).find((s) => s.inputSize === inputSize);
      if (set === undefined) {
        return Promise.reject(
          new RangeError(
            `Cannot run model ${this.#manifest.dir}: it has no graphs for input size ${inputSize}`,
          ),
        );
      }
      p = openPair(this.#manifest, set, this.#backend, this.#threads);
      this.#open.set(inputSize, p);
    }
    return p;
  }

  async release(): Promise<void> {
    for (const p of this.#open.values()) {
      const pair = await p.catch(() => null);
      if (pair) await releasePair(pair);
    }
    this.#open.clear();
  }
}

/** Fails as a load would when a graph file the backend reads is missing or unreadable. */
async function checkGraphFiles(manifest: ModelManifest, wasm: boolean): Promise<void> {
  for (const set of graphSets(manifest)) {
    const files = graphFiles(set, wasm);
    for (const file of [files.encoder, files.decoder]) {
      try {
        const info = await Deno.stat(`${manifest.dir}/${file}`);
        if (!info.isFile) throw new Error("not a file");
      } catch (e) {
        throw new TypeError(
          `Cannot load model ${manifest.dir}: cannot read ${file}: ${(e as Error).message}`,
        );
      }
    }
  }
}

async function readGraph(manifest: ModelManifest, file: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(`${manifest.dir}/${file}`);
  } catch (e) {
    throw new TypeError(
      `Cannot load model ${manifest.dir}: cannot read ${file}: ${(e as Error).message}`,
    );
  }
}

/**
 * A fixed, deterministic batch for the backend self-check: a textured image
 * with a bright rotated bar and an oriented prompt on it.
 */
export function checkBatch(
  manifest: ModelManifest,
  size = 1,
  inputSize = manifest.inputSize,
): PromptBatch {
  const n = inputSize;
  const rand = mulberry32(1234);
  const images = new Float32Array(size * 3 * n * n);
  for (let b = 0; b < size; b++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const u = (x - n / 2) * Math.cos(0.5 + b) + (y - n / 2) * Math.sin(0.5 + b);
          const v = -(x - n / 2) * Math.sin(0.5 + b) + (y - n / 2) * Math.cos(0.5 + b);
          const inBar = Math.abs(u) < n / 4 && Math.abs(v) < n / 10;
          images[((b * 3 + c) * n + y) * n + x] = (inBar ? 1.5 : -0.5) + 0.3 * (rand() - 0.5);
        }
      }
    }
  }
  const coords = new Float32Array(size * 10);
  const labels = new Float32Array(size * 5);
  for (let b = 0; b < size; b++) {
    const a = 0.5 + b, c = n / 2, r = n / 8;
    const pts = [
      [c - r * Math.cos(a), c - r * Math.sin(a)],
      [c, c],
      [c + r * Math.cos(a), c + r * Math.sin(a)],
      [n / 4, n / 4],
      [(3 * n) / 4, (3 * n) / 4],
    ];
    pts.forEach(([x, y], i) => {
      coords[b * 10 + 2 * i] = x!;
      coords[b * 10 + 2 * i + 1] = y!;
    });
    labels.set([1, 1, 1, 2, 3], b * 5);
  }
  // a class prompt that differs per item (the unknown index 0 among them from 4 items on)
  const k = manifest.classPrompt?.size ?? 1;
  const classes = Int32Array.from({ length: size }, (_, b) => (b * 5 + 1) % k);
  return { size, inputSize: n, images, coords, labels, classes };
}

/**
 * The decoder's prompt inputs of a batch, by name: `point_coords`, `point_labels` and, for a
 * model with a class prompt, its one-hot (the batch's `classes`, or the unknown index for all).
 */
export function promptFeeds(
  manifest: ModelManifest,
  batch: PromptBatch,
): Record<string, Float32Tensor> {
  const B = batch.size;
  const feeds: Record<string, Float32Tensor> = {
    point_coords: { data: batch.coords.subarray(0, B * 10), dims: [B, 5, 2] },
    point_labels: { data: batch.labels.subarray(0, B * 5), dims: [B, 5] },
  };
  const spec = manifest.classPrompt;
  if (spec) feeds[spec.input] = classOneHot(spec, batch);
  return feeds;
}

function classOneHot(spec: ClassPromptSpec, batch: PromptBatch): Float32Tensor {
  const data = new Float32Array(batch.size * spec.size);
  for (let b = 0; b < batch.size; b++) {
    const i = batch.classes?.[b] ?? spec.unknownIndex;
    if (!Number.isInteger(i) || i < 0 || i >= spec.size) {
      throw new RangeError(
        `Cannot run the decoder: class prompt index ${i} is not in [0, ${spec.size})`,
      );
    }
    data[b * spec.size + i] = 1;
  }
  return { data, dims: [batch.size, spec.size] };
}

/** A SOPSeg model loaded on one backend. */
export class SopsegModel {
  /** The manifest the model was loaded from. */
  readonly manifest: ModelManifest;
  /** The backend the model runs on. */
  readonly backend: BackendName;
  /** Why this backend was chosen (one sentence). */
  readonly backendReason: string;
  /** The self-check result, when one ran. */
  readonly parity: ParityResult | null;
  /** The classes the model was trained on, or `null` when its manifest does not list them. */
  readonly trainingClasses: TrainingClasses | null;
  /** How many batches the model works on at once (its sessions); feed it that many. */
  readonly concurrency: number;
  #tta: FlipTta = "off";
  /** Which crops {@linkcode predict} also runs mirrored ({@linkcode ModelLoadOptions.tta}). */
  get tta(): FlipTta {
    return this.#tta;
  }
  #pair: Pairs | SessionPool;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    manifest: ModelManifest,
    pair: Pairs | SessionPool,
    backend: BackendName,
    reason: string,
    parity: ParityResult | null,
  ) {
    this.manifest = manifest;
    this.#pair = pair;
    this.concurrency = pair instanceof SessionPool ? pair.size : 1;
    this.backend = backend;
    this.backendReason = reason;
    this.parity = parity;
    this.trainingClasses = manifest.classes ? new TrainingClasses(manifest.classes) : null;
  }

  /**
   * Load the model directory `dir` on a backend. With `auto`, WebGPU is used
   * only when an adapter exists and its outputs on a fixed batch match WASM's
   * within the tolerance; otherwise WASM, and `backendReason` says why.
   * {@linkcode close} it when done (in a `finally`): with `sessions` over 1
   * its sessions run in workers, which keep the process alive until then.
   *
   * @example
   * ```ts
   * import { SopsegModel } from "./sopseg_model.ts";
   * const dir = new URL("../../models/sopseg-lite", import.meta.url).pathname;
   * const model = await SopsegModel.load(dir, { backend: "wasm", threads: 1 });
   * if (model.backend !== "wasm") throw new Error(model.backend);
   * await model.close();
   * ```
   */
  static async load(dir: string, options: ModelLoadOptions = {}): Promise<SopsegModel> {
    const model = await SopsegModel.#load(dir, options);
    model.#tta = options.tta ?? DEFAULT_FLIP_TTA;
    return model;
  }

  static async #load(dir: string, options: ModelLoadOptions): Promise<SopsegModel> {
    // JavaScript callers get no type check: a backend or count the load cannot honour throws
    const choice = parseBackendChoice(options.backend ?? "auto");
    for (const [name, value] of [["threads", options.threads], ["sessions", options.sessions]]) {
      if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1)) {
        throw new RangeError(`Cannot load ${dir}: ${name} must be an integer >= 1, got ${value}`);
      }
    }
    const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
    const sessions = Math.max(1, Math.min(options.sessions ?? 1, threads));
    const log = options.onLog ?? (() => {});
    if ((options.sessions ?? 1) > sessions) {
      log(
        `${options.sessions} sessions asked for with ${threads} thread(s): ${sessions} (a session needs a thread)`,
      );
    }
    const loaded = await loadManifest(dir);
    const asked = options.smallGraphs;
    if (typeof asked === "number" && !(asked > 0 && Number.isFinite(asked))) {
      throw new RangeError(`Cannot load ${dir}: small graphs' crop side ${asked} is not > 0`);
    }
    const small = asked === undefined ? loaded.smallGraphs?.byDefault ?? false : asked !== false;
    // without its small graphs the model is its main set alone (and its run record says so)
    let manifest: ModelManifest = small ? loaded : { ...loaded, smallGraphs: null };
    if (typeof asked === "number" && manifest.smallGraphs) {
      const { maxCropSide } = manifest.smallGraphs;
      manifest = {
        ...manifest,
        smallGraphs: {
          ...manifest.smallGraphs,
          maxCropSide: asked,
          manifestMaxCropSide: maxCropSide,
        },
      };
    }
    if (options.hashFiles ?? true) modelFilesSha256(manifest).catch(() => undefined);
    const openPool = async () => {
      const per = Math.floor(threads / sessions);
      return { pool: await SessionPool.open(manifest.dir, sessions, per, small), per };
    };
    const pairs = async (backend: BackendName, first?: Promise<Pair> | Pair, firstSize?: number) =>
      new Pairs(manifest, backend, threads, await first, firstSize);
    // auto with several sessions: start the workers while WebGPU is probed (the
    // probe waits on the driver, the workers compile WASM); closed if WebGPU wins.
    let early: Promise<{ pool: SessionPool; per: number }> | undefined;
    if (choice === "auto" && sessions > 1) {
      early = openPool();
      early.catch(() => undefined); // awaited (or closed) below
    }
    // auto with one session: open a WASM pair while WebGPU is probed; it is needed either
    // way (the fallback, or the WebGPU self-check's reference). The main set's, except for a
    // run of one batch with small graphs on: the small set's, which most boxes' crops run on
    // (a one-box run opens only the set its crop needs; a large crop opens the main set then).
    let earlyPair: Promise<Pair> | undefined;
    let earlySet: GraphSet = manifest;
    if (choice === "auto" && sessions === 1) {
      const oneBatch = options.batches !== undefined && options.batches <= 1;
      if (oneBatch && manifest.smallGraphs) earlySet = manifest.smallGraphs;
      earlyPair = openPair(manifest, earlySet, "wasm", threads);
      earlyPair.catch(() => undefined); // awaited below
    }
    const onWasm = async (reason: string, parity: ParityResult | null = null) => {
      if (sessions === 1) {
        // A model with small graphs opens each set's sessions on its first batch (a run may
        // need one set only; the early pair is one of them); its files are checked now, so a
        // missing one fails the load.
        let first = earlyPair;
        if (manifest.smallGraphs) await checkGraphFiles(manifest, true);
        else first ??= openPair(manifest, manifest, "wasm", threads);
        const pair = await pairs("wasm", first, earlySet.inputSize);
        return new SopsegModel(manifest, pair, "wasm", reason, parity);
      }
      const { pool, per } = await (early ?? openPool());
      const layout = `${sessions} sessions x ${per} thread${per > 1 ? "s" : ""}`;
      return new SopsegModel(manifest, pool, "wasm", `${reason} (${layout})`, parity);
    };
    if (choice === "wasm") return await onWasm("asked for wasm");
    if (choice === "auto" && options.batches !== undefined && options.batches <= 1) {
      const reason = "auto: one batch of work, less than WebGPU's self-check would run; using wasm";
      log(reason);
      return await onWasm(reason);
    }
    const probe = await probeWebGpu();
    if (choice === "webgpu") {
      if (!probe.available) {
        throw new TypeError(`Cannot use backend webgpu: ${probe.description}`);
      }
      const pair = await pairs("webgpu", openPair(manifest, manifest, "webgpu", threads));
      return new SopsegModel(
        manifest,
        pair,
        "webgpu",
        `asked for webgpu (${probe.description})`,
        null,
      );
    }
    if (!probe.available) {
      const reason = `auto: WebGPU unavailable (${probe.description}), using wasm`;
      log(reason);
      return await onWasm(reason);
    }
    if (probe.software && !options.allowSoftwareWebGpu) {
      const reason =
        `auto: the WebGPU adapter is a software renderer (${probe.description}), slower than WASM; using wasm`;
      log(reason);
      return await onWasm(reason);
    }
    // The self-check needs a WASM session in this process; a WASM fallback keeps it.
    if (early) await early.then(({ pool }) => pool.close(), () => undefined);
    const wasm = await pairs(
      "wasm",
      earlyPair ?? openPair(manifest, manifest, "wasm", threads),
      earlySet.inputSize,
    );
    let gpu: Pairs | undefined;
    // WASM once the WebGPU pair is open (or failed to open): the sessions asked for (the
    // pool, when several), the self-check's result when it ran.
    const wasmAfterProbe = async (reason: string, parity: ParityResult | null) => {
      await gpu?.release();
      log(reason);
      if (sessions === 1) return new SopsegModel(manifest, wasm, "wasm", reason, parity);
      await wasm.release();
      early = undefined;
      return await onWasm(reason, parity);
    };
    try {
      gpu = await pairs("webgpu", openPair(manifest, manifest, "webgpu", threads));
      // every graph set is checked: the small graphs are other graphs, not just other shapes
      await gpu.openAll(graphSets(manifest));
    } catch (e) {
      return await wasmAfterProbe(
        `auto: WebGPU session failed (${(e as Error).message}), using wasm`,
        null,
      );
    }
    const tolerance = options.parityTolerance ?? PARITY_TOLERANCE;
    let parity: ParityResult;
    try {
      parity = await setsParity(wasm, gpu, manifest, tolerance);
    } catch (e) {
      return await wasmAfterProbe(
        `auto: WebGPU self-check failed to run (${(e as Error).message}), using wasm`,
        null,
      );
    }
    const worst = parity.worst;
    const detail = worst
      ? `worst output ${worst.name}: max |diff| ${worst.maxAbsDiff.toExponential(2)}, relative ${
        worst.relDiff.toExponential(2)
      }, tolerance ${tolerance}`
      : "no outputs";
    if (!parity.ok) {
      return await wasmAfterProbe(
        `auto: WebGPU (${probe.description}) disagrees with WASM on the self-check (${detail}), using wasm`,
        parity,
      );
    }
    // Agreeing is not enough: on some GPUs onnxruntime-web's WebGPU backend is slower than
    // WASM on the CPU (BENCHMARKS.md, 2026-12-04: an H200 at 2.6x WASM's time), so both are
    // timed on the same batches and the faster one runs.
    let speed: { wasm: number; webgpu: number };
    try {
      speed = {
        wasm: await setsSecondsPerInstance(wasm, manifest),
        webgpu: await setsSecondsPerInstance(gpu, manifest),
      };
    } catch (e) {
      return await wasmAfterProbe(
        `auto: WebGPU speed check failed to run (${(e as Error).message}), using wasm`,
        parity,
      );
    }
    const ms = (s: number) => `${(s * 1e3).toFixed(1)} ms`;
    const timed = `${ms(speed.webgpu)} per instance against WASM's ${ms(speed.wasm)}, ` +
      `batches of ${SPEED_CHECK_BATCH} through every graph set`;
    if (speed.webgpu >= speed.wasm) {
      return await wasmAfterProbe(
        `auto: WebGPU (${probe.description}) agrees with WASM (${detail}) but is slower here (${timed}), using wasm`,
        parity,
      );
    }
    await wasm.release();
    const reason =
      `auto: WebGPU (${probe.description}) passed the self-check against WASM (${detail}) and is faster (${timed})`;
    log(reason);
    return new SopsegModel(manifest, gpu, "webgpu", reason, parity);
  }

  /**
   * Run encoder and decoder on a batch. A model with several sessions runs
   * concurrent calls on different sessions: keep {@linkcode concurrency} calls
   * in flight to use them all. `transfer`: a model with several sessions hands
   * the batch's arrays to its worker instead of copying them (about 6 MB for
   * 8 crops), and they are empty (detached) afterwards; for callers that do not
   * read them again.
   *
   * @example
   * ```ts
   * import { checkBatch, SopsegModel } from "./sopseg_model.ts";
   * const dir = new URL("../../models/sopseg-lite", import.meta.url).pathname;
   * const model = await SopsegModel.load(dir, { backend: "wasm", threads: 1 });
   * const out = await model.predict(checkBatch(model.manifest, 1));
   * const n = model.manifest.inputSize;
   * if (out.maskLogits.length !== n * n) throw new Error("shape");
   * await model.close();
   * ```
   */
  async predict(
    batch: PromptBatch,
    options: { transfer?: boolean } = {},
  ): Promise<BatchPrediction> {
    if (this.#closed) {
      throw new Error(`Cannot predict: model ${this.manifest.dir} was closed (load it again)`);
    }
    const n = batch.inputSize ?? this.manifest.inputSize;
    if (this.tta === "all" || (this.tta === "main" && n === this.manifest.inputSize)) {
      const out = await this.#predict(withMirrors(batch, n), { transfer: true });
      return averageMirrors(out, batch.size, n);
    }
    return await this.#predict(batch, options);
  }

  async #predict(
    batch: PromptBatch,
    options: { transfer?: boolean },
  ): Promise<BatchPrediction> {
    if (this.#pair instanceof SessionPool) {
      return await this.#pair.predict(batch, options.transfer ?? false);
    }
    const n = batch.inputSize ?? this.manifest.inputSize;
    // One call at a time on these sessions: a set's sessions may be created on a call's
    // first batch, and onnxruntime-web's WASM instance must not create a session while
    // another call runs (a pool worker receives its next batch before the last is done).
    const pairs = this.#pair;
    const run = this.#queue.then(async () => runPair(await pairs.get(n), batch, this.manifest));
    this.#queue = run.catch(() => undefined);
    const r = await run;
    return {
      maskLogits: r.decoder.mask_logits!.data,
      iou: r.decoder.iou_predictions!.data,
      timing: r.timing,
    };
  }

  /**
   * The class prompt index of a detector's class name for this model: the training
   * class's manifest id, or the unknown index for a name that is none of them, for an
   * empty name, and for every name when the model has no class prompt (then unused).
   */
  classPromptIndex(name: string): number {
    const spec = this.manifest.classPrompt;
    if (spec === null || this.trainingClasses === null) return spec?.unknownIndex ?? 0;
    return this.trainingClasses.promptIndex(name) ?? spec.unknownIndex;
  }

  /**
   * The input size of the graph set that a crop of side `cropSide` (source pixels) runs
   * on: the small graphs' when the model has them and the crop is at most their
   * `maxCropSide` (it is then not shrunk), else the main one's.
   *
   * @example
   * ```ts
   * import { SopsegModel } from "./sopseg_model.ts";
   * const dir = new URL("../../models/sopseg-lite", import.meta.url).pathname;
   * const model = await SopsegModel.load(dir, { backend: "wasm", threads: 1 });
   * if (model.inputSizeFor(4000) !== model.manifest.inputSize) throw new Error("main set");
   * await model.close();
   * ```
   */
  inputSizeFor(cropSide: number): number {
    const small = this.manifest.smallGraphs;
    return small && cropSide <= small.maxCropSide ? small.inputSize : this.manifest.inputSize;
  }

  /**
   * Open the sessions of every graph set this model runs now, in every session (worker),
   * instead of on each set's first batch. A load opens none for a model with small graphs
   * (a one-box run needs one set only); a long-lived caller (a server) or a benchmark that
   * times the model calls alone opens them here. Runs nothing through them.
   *
   * @example
   * ```ts
   * import { SopsegModel } from "./sopseg_model.ts";
   * const dir = new URL("../../models/sopseg-lite", import.meta.url).pathname;
   * const model = await SopsegModel.load(dir, { backend: "wasm", threads: 1 });
   * await model.openGraphSets();
   * await model.close();
   * ```
   */
  async openGraphSets(): Promise<void> {
    if (this.#pair instanceof SessionPool) return await this.#pair.openGraphSets();
    const pairs = this.#pair;
    // on the call queue: onnxruntime-web must not create a session while a call runs
    const open = this.#queue.then(() => pairs.openAll(graphSets(this.manifest)));
    this.#queue = open.catch(() => undefined);
    await open;
  }

  /**
   * Release the sessions (and end their workers). A later {@linkcode predict}
   * throws: load the model again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await (this.#pair instanceof SessionPool ? this.#pair.close() : this.#pair.release());
  }
}

async function runPair(pair: Pair, batch: PromptBatch, manifest: ModelManifest) {
  const B = batch.size;
  const n = batch.inputSize ?? manifest.inputSize;
  const image: Float32Tensor = {
    data: batch.images.subarray(0, B * 3 * n * n),
    dims: [B, 3, n, n],
  };
  const t0 = performance.now();
  const enc = await pair.encoder.run({ image });
  const t1 = performance.now();
  const dec = await pair.decoder.run({
    image,
    image_embeddings: enc.image_embeddings!,
    shallow_features: enc.shallow_features!,
    ...promptFeeds(manifest, batch),
  });
  const t2 = performance.now();
  return {
    encoder: enc,
    decoder: dec,
    timing: { encoder: (t1 - t0) / 1e3, decoder: (t2 - t1) / 1e3 },
  };
}

/** Batch size of `auto`'s speed check (small: a software adapter takes seconds per instance). */
const SPEED_CHECK_BATCH = 2;

/**
 * `auto`'s speed check: seconds per instance of a fixed batch through every graph set (summed
 * over the sets), each set's best of two runs, after the self-check has run each set once.
 */
async function setsSecondsPerInstance(pairs: Pairs, manifest: ModelManifest): Promise<number> {
  let total = 0;
  for (const set of graphSets(manifest)) {
    const batch = checkBatch(manifest, SPEED_CHECK_BATCH, set.inputSize);
    const pair = await pairs.get(set.inputSize);
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const { timing } = await runPair(pair, batch, manifest);
      best = Math.min(best, timing.encoder + timing.decoder);
    }
    total += best / SPEED_CHECK_BATCH;
  }
  return total;
}

/** The self-check: a fixed batch through every graph set on both backends. */
async function setsParity(
  reference: Pairs,
  candidate: Pairs,
  manifest: ModelManifest,
  tolerance: number,
): Promise<ParityResult> {
  const outputs: OutputDifference[] = [];
  let ok = true;
  for (const set of graphSets(manifest)) {
    const batch = checkBatch(manifest, 1, set.inputSize);
    const a = await runPair(await reference.get(set.inputSize), batch, manifest);
    const b = await runPair(await candidate.get(set.inputSize), batch, manifest);
    const enc = compareOutputs(a.encoder, b.encoder, tolerance);
    const dec = compareOutputs(a.decoder, b.decoder, tolerance);
    // the main set's outputs keep their names; the small set's say their input size
    const tag = set === manifest ? "" : `@${set.inputSize}`;
    outputs.push(
      ...enc.outputs.map((o) => ({ ...o, name: `encoder${tag}.${o.name}` })),
      ...dec.outputs.map((o) => ({ ...o, name: `decoder${tag}.${o.name}` })),
    );
    ok &&= enc.ok && dec.ok;
  }
  let worst = outputs[0] ?? null;
  for (const o of outputs) if (worst && o.relDiff > worst.relDiff) worst = o;
  return { ok, tolerance, outputs, worst };
}

async function releasePair(pair: Pair): Promise<void> {
  await pair.encoder.release();
  await pair.decoder.release();
}
