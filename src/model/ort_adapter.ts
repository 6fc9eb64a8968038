/**
 * The one file that imports onnxruntime-web. The rest of the code sees
 * {@linkcode GraphRunner} and plain `Float32Array`s.
 *
 * Two builds of onnxruntime-web are used:
 * - `wasm`: the package's default build (under Deno, its Node build), which
 *   runs multi-threaded WASM SIMD through worker threads;
 * - `webgpu`: the WebGPU bundle, loaded only when asked for. Its own WASM
 *   part runs single-threaded (its worker is created from a `blob:` URL, which
 *   Deno cannot import), which does not matter: WebGPU does the work.
 *
 * @module
 */
import * as ortDefault from "onnxruntime-web";
import type { BackendName } from "./backends.ts";

/** A float32 tensor: data and dimensions, e.g. `float32[B,3,256,256]`. */
export interface Float32Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** One ONNX graph ready to run on one backend. Runs are serialised. */
export interface GraphRunner {
  /** The backend the graph runs on. */
  readonly backend: BackendName;
  /** Input names declared by the graph. */
  readonly inputNames: readonly string[];
  /** Output names declared by the graph. */
  readonly outputNames: readonly string[];
  /** Run the graph; all inputs and outputs are float32. */
  run(feeds: Readonly<Record<string, Float32Tensor>>): Promise<Record<string, Float32Tensor>>;
  /** Free the session. */
  release(): Promise<void>;
}

/** Options of {@linkcode createGraphRunner}. */
export interface GraphRunnerOptions {
  /** Backend to run on. */
  backend: BackendName;
  /**
   * WASM threads. Only the first session of a process sets it (onnxruntime
   * initialises its WASM module once). Default: `navigator.hardwareConcurrency`.
   */
  threads?: number;
  /** Name used in error messages, e.g. the file. Default: `"graph"`. */
  label?: string;
  /**
   * The bytes are a graph already optimised for this backend's kernels (an ORT-format
   * file from `training/optimize_graphs.ts`): load it with the optimiser off.
   * Default: false (optimise fully at load).
   */
  preoptimized?: boolean;
}

type Ort = typeof ortDefault;
let webgpuModule: Promise<Ort> | undefined;
let wasmThreads: number | undefined;

/*
 * Threaded WASM memory is grown only between runs, never inside one.
 *
 * onnxruntime-web's threaded build shares one growable WebAssembly.Memory
 * between the main thread and its pthread workers. When the main thread grows
 * it in the middle of session.run (ORT's arena takes more memory on the first
 * run of a larger shape), a worker that then touches the new pages before V8
 * has told its isolate about the growth traps ("RuntimeError: memory access
 * out of bounds"). The worker thread exits; its error message waits in the
 * main thread's event queue, which never runs again, because the main thread
 * spins in ORT's thread pool waiting for that worker: one core busy, no
 * answer, forever. Whether a growth lands at such a moment depends on the heap
 * layout, which Emscripten shifts by the script's path (it stores
 * `_=<process.argv[1]>` in the WASM environment), hence "hangs from some
 * folders". So ORT's memory is created at 512 MiB instead of 16 MiB, and
 * before each run grown (from JS, while the workers idle) to 64 MiB plus 24
 * times the bytes fed; sopseg-lite peaks at about 24 MB + 8.2 MB per crop
 * (batch 8: 94 MB; batch 32: 285 MB, for which the rule reserves 664 MB).
 * Untouched pages cost address space, not RAM.
 */
const WASM_PAGE = 65536;
const INITIAL_WASM_MEMORY = 512 * 1024 * 1024;
const WASM_MEMORY_BASE = 64 * 1024 * 1024;
const WASM_MEMORY_PER_FED_BYTE = 24;
let wasmMemory: WebAssembly.Memory | undefined;
let growthsDuringRuns = 0;

/**
 * Runs `create` (the first WASM session, which instantiates ORT's module)
 * with `WebAssembly.Memory` replaced by one that creates ORT's shared memory
 * at {@linkcode INITIAL_WASM_MEMORY} and keeps it in `wasmMemory`.
 */
async function withCapturedWasmMemory<T>(create: () => Promise<T>): Promise<T> {
  const wa = WebAssembly as { Memory: typeof WebAssembly.Memory };
  const Original = wa.Memory;
  const initialPages = INITIAL_WASM_MEMORY / WASM_PAGE;
  const Capturing = function (descriptor: WebAssembly.MemoryDescriptor) {
    const max = descriptor.maximum ?? 0;
    if (wasmMemory !== undefined || !descriptor.shared || max < initialPages) {
      return new Original(descriptor);
    }
    wasmMemory = new Original({
      ...descriptor,
      initial: Math.max(descriptor.initial, initialPages),
    });
    return wasmMemory;
  } as unknown as typeof WebAssembly.Memory;
  Capturing.prototype = Original.prototype;
  wa.Memory = Capturing;
  try {
    return await create();
  } finally {
    wa.Memory = Original;
  }
}

/** Grows ORT's shared memory, while no run is in progress, for a run fed `fedBytes`. */
function reserveWasmMemory(memory: WebAssembly.Memory, fedBytes: number): void {
  const max = 65536 * WASM_PAGE;
  const target = Math.min(max, WASM_MEMORY_BASE + WASM_MEMORY_PER_FED_BYTE * fedBytes);
  const have = memory.buffer.byteLength;
  if (target <= have) return;
  try {
    memory.grow(Math.ceil((target - have) / WASM_PAGE));
  } catch {
    // At its maximum or out of address space: ORT grows (or fails) by itself.
  }
}

/** ORT's threaded WASM memory, for tests: its size and how often a run grew it. */
export function wasmMemoryState(): { bytes: number; growthsDuringRuns: number } | undefined {
  if (wasmMemory === undefined) return undefined;
  return { bytes: wasmMemory.buffer.byteLength, growthsDuringRuns };
}

async function runtimeFor(backend: BackendName, threads: number): Promise<Ort> {
  if (backend === "webgpu") {
    webgpuModule ??= import("onnxruntime-web/webgpu").then((m) => {
      const ort = m as unknown as Ort;
      ort.env.wasm.numThreads = 1;
      ort.env.logLevel = "error";
      return ort;
    });
    return await webgpuModule;
  }
  if (wasmThreads === undefined) {
    wasmThreads = threads;
    ortDefault.env.wasm.numThreads = threads;
    ortDefault.env.logLevel = "error";
  }
  return ortDefault;
}

/** The WASM thread count in force in this process, once a WASM session exists. */
export function activeWasmThreads(): number | undefined {
  return wasmThreads;
}

/** What {@linkcode probeWebGpu} found. */
export interface WebGpuProbe {
  /** An adapter exists. */
  readonly available: boolean;
  /** The adapter is a CPU rasteriser (llvmpipe, lavapipe, SwiftShader, WARP). */
  readonly software: boolean;
  /** Vendor, architecture, device and description, or why there is none. */
  readonly description: string;
}

/** Names of CPU-emulated GPU adapters: correct enough for tests, far slower than WASM. */
export const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|basic render|warp/i;

/**
 * Whether a WebGPU adapter exists, and its description.
 *
 * @example
 * ```ts ignore
 * // Not run as a doc test: WebGPU work stays out of the test runner's process
 * // (see test/model/_webgpu_check.ts).
 * import { probeWebGpu } from "./ort_adapter.ts";
 * const probe = await probeWebGpu();
 * if (typeof probe.available !== "boolean") throw new Error("bad probe");
 * ```
 */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    return { available: false, software: false, description: "navigator.gpu is not defined" };
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return { available: false, software: false, description: "no WebGPU adapter found" };
    }
    const info = adapter.info;
    const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s);
    const description = parts.join(" ") || "unnamed adapter";
    return { available: true, software: SOFTWARE_ADAPTER.test(description), description };
  } catch (e) {
    return {
      available: false,
      software: false,
      description: `requestAdapter failed: ${(e as Error).message}`,
    };
  }
}

function describeFeeds(feeds: Readonly<Record<string, Float32Tensor>>): string {
  return Object.entries(feeds)
    .map(([k, t]) => `${k}: float32[${t.dims.join(",")}] (${t.data.length} values)`)
    .join("; ");
}

/**
 * Create a session for one ONNX graph.
 *
 * @example
 * ```ts
 * import { createGraphRunner } from "./ort_adapter.ts";
 * const dir = new URL("../../models/sopseg-lite", import.meta.url).pathname;
 * const bytes = await Deno.readFile(`${dir}/encoder.onnx`);
 * const runner = await createGraphRunner(bytes, { backend: "wasm", threads: 1 });
 * if (!runner.inputNames.includes("image")) throw new Error("no image input");
 * await runner.release();
 * ```
 */
export async function createGraphRunner(
  bytes: Uint8Array,
  options: GraphRunnerOptions,
): Promise<GraphRunner> {
  const label = options.label ?? "graph";
  const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
  const ort = await runtimeFor(options.backend, threads);
  const threaded = options.backend === "wasm" && (wasmThreads ?? 1) > 1;
  const create = () =>
    ort.InferenceSession.create(bytes, {
      executionProviders: [options.backend],
      graphOptimizationLevel: options.preoptimized ? "disabled" : "all",
      // 3 = errors only: WebGPU otherwise warns on stderr that shape ops run on the CPU.
      logSeverityLevel: 3,
    });
  let session: ortDefault.InferenceSession;
  try {
    session = threaded && wasmMemory === undefined
      ? await withCapturedWasmMemory(create)
      : await create();
  } catch (e) {
    throw new TypeError(
      `Cannot create a ${options.backend} session for ${label}: ${(e as Error).message}`,
    );
  }
  let queue: Promise<unknown> = Promise.resolve();
  const inputNames = [...session.inputNames];
  const outputNames = [...session.outputNames];
  const run = async (feeds: Readonly<Record<string, Float32Tensor>>) => {
    const missing = inputNames.filter((n) => !(n in feeds));
    const extra = Object.keys(feeds).filter((n) => !inputNames.includes(n));
    if (missing.length || extra.length) {
      throw new TypeError(
        `Cannot run ${label}: inputs do not match the graph (missing: ${
          missing.join(", ") || "none"
        }; unexpected: ${extra.join(", ") || "none"})`,
      );
    }
    const ortFeeds: Record<string, ortDefault.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = new ort.Tensor("float32", t.data, [...t.dims]);
    }
    const memory = threaded ? wasmMemory : undefined;
    let bytesBefore = 0;
    if (memory) {
      reserveWasmMemory(memory, Object.values(feeds).reduce((n, t) => n + t.data.byteLength, 0));
      bytesBefore = memory.buffer.byteLength;
    }
    let result: ortDefault.InferenceSession.ReturnType;
    try {
      result = await session.run(ortFeeds);
      if (memory && memory.buffer.byteLength > bytesBefore) growthsDuringRuns++;
    } catch (e) {
      throw new TypeError(
        `Cannot run ${label} on ${options.backend}: ${(e as Error).message}; inputs were ${
          describeFeeds(feeds)
        }`,
      );
    }
    const out: Record<string, Float32Tensor> = {};
    for (const name of outputNames) {
      const t = result[name];
      if (!t || t.type !== "float32") {
        throw new TypeError(`Cannot run ${label}: output "${name}" is missing or not float32`);
      }
      // getData copies GPU tensors to the CPU; for CPU tensors it is the data itself.
      const data = (await t.getData()) as Float32Array;
      out[name] = { data, dims: [...t.dims] };
      t.dispose();
    }
    return out;
  };
  return {
    backend: options.backend,
    inputNames,
    outputNames,
    run(feeds) {
      const next = queue.then(() => run(feeds));
      queue = next.catch(() => undefined);
      return next;
    },
    async release() {
      await queue;
      await session.release();
    },
  };
}
