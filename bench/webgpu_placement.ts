/**
 * Where onnxruntime-web's WebGPU execution provider puts each node of the model's
 * graphs, and (optionally) where a WebGPU run spends its time.
 *
 *     deno run -A --no-lock bench/webgpu_placement.ts [--model DIR] [--onnx FILE]...
 *       [--fix-batch N] [--nodes] [--profile | --kernels] [--batch 2] [--runs 2]
 *       [--api 8,32] [--json FILE]
 *
 * For each graph (default: the model's encoder and decoder at every input size;
 * `--onnx` names files instead, e.g. a rewritten copy under /tmp) a WebGPU session
 * is created with the session logger at VERBOSE, and its "Node placements" and
 * "Add MemcpyFromHost/MemcpyToHost" lines (session_state.cc, transformer_memcpy.cc)
 * are parsed: op types per execution provider with counts, the copy nodes, and,
 * with `--nodes`, the name of every CPU-placed node. `--fix-batch N` pins the
 * batch dimension `B` (session option `freeDimensionOverrides`) in every session.
 *
 * `--profile`: a profiled session (`enableProfiling`), `runs + 1` runs of a batch
 * of `--batch` (the first dropped), milliseconds per run by execution provider and
 * op type from the CPU-side `*_kernel_time` events: for WebGPU nodes the time to
 * record the dispatch (plus any queue flush that lands on it), not GPU time.
 *
 * `--kernels`: every dispatch of the last run with its GPU time (the WebGPU EP's
 * timestamp-query events, "Api" in the profile), its workgroup grid and the
 * threads it launches (from the INFO log's "Starting program KEY (x, y, z)").
 *
 * `--api 8,32`: runs the graph at each batch size (cold first run, then `runs`
 * warm runs) with every method of the WebGPU classes wrapped, and prints per run
 * the wall time, the host time per API method (calls, ms), buffers created and
 * bytes mapped. On a software adapter `GPUQueue.submit` holds the execution itself.
 *
 * Inputs: the self-check batch (`checkBatch`) and deterministic noise for the
 * embeddings.
 *
 * Under Deno the WASM module writes its log and profile straight to file
 * descriptors 1 and 2 (`fs.writeSync`), so each graph is inspected in a child
 * process whose output is parsed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_DIR } from "../src/model/default_model.ts";
import { graphSets, loadManifest } from "../src/model/manifest.ts";
import { checkBatch, promptFeeds } from "../src/model/sopseg_model.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: DEFAULT_MODEL_DIR },
    onnx: { type: "string", multiple: true },
    profile: { type: "boolean", default: false },
    batch: { type: "string", default: "2" },
    runs: { type: "string", default: "2" },
    nodes: { type: "boolean", default: false },
    json: { type: "string" },
    api: { type: "string" },
    kernels: { type: "boolean", default: false },
    "fix-batch": { type: "string" },
    // internal: inspect one graph (a JSON Target) and print ORT's log and profile
    child: { type: "string" },
  },
});
let batch = Number(values.batch);
const runs = Number(values.runs);

const out = console.log;
const ort = await import("onnxruntime-web/webgpu");
type SessionOptions = Parameters<typeof ort.InferenceSession.create>[1];
ort.env.wasm.numThreads = 1;

const manifest = await loadManifest(values.model!);
interface Target {
  file: string;
  graph: "encoder" | "decoder";
  inputSize: number;
}
const targets: Target[] = values.onnx?.length
  ? values.onnx.map((file) => ({
    file,
    graph: /decoder/.test(file) ? "decoder" : "encoder",
    inputSize: Number(/_(\d+)\.onnx$/.exec(file)?.[1] ?? manifest.inputSize),
  }))
  : graphSets(manifest).flatMap((set) =>
    (["encoder", "decoder"] as const).map((graph) => ({
      file: `${manifest.dir}/${set[graph].file}`,
      graph,
      inputSize: set.inputSize,
    }))
  );

/** Placement of one graph, parsed from the session's VERBOSE log. */
interface Placement {
  /** Execution provider -> op type -> count (Memcpy nodes included). */
  byProvider: Record<string, Record<string, number>>;
  /** Execution provider -> node names, "OpType (name)". */
  nodes: Record<string, string[]>;
  /** The "Add MemcpyXxx after/before <arg> for <EP>" lines, shortened. */
  copies: string[];
}

function parsePlacement(lines: string[]): Placement {
  const byProvider: Record<string, Record<string, number>> = {};
  const nodes: Record<string, string[]> = {};
  const copies: string[] = [];
  let provider: string | undefined;
  for (const line of lines) {
    const copy = /AddCopyNode\] (Add Memcpy.*)$/.exec(line);
    if (copy) copies.push(copy[1]!);
    const all = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (all) {
      // the log lists no nodes then: count them as "(all)"
      byProvider[all[1]!] = { "(all)": Number(all[2]) };
      nodes[all[1]!] = [];
      provider = undefined;
      continue;
    }
    const head = /Node\(s\) placed on \[(\w+)\]/.exec(line);
    if (head) {
      provider = head[1]!;
      byProvider[provider] ??= {};
      nodes[provider] ??= [];
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \((.*)\)\s*$/.exec(line);
    if (node && provider) {
      const counts = byProvider[provider]!;
      counts[node[1]!] = (counts[node[1]!] ?? 0) + 1;
      nodes[provider]!.push(`${node[1]} (${node[2]})`);
    } else if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) {
      provider = undefined;
    }
  }
  return { byProvider, nodes, copies };
}

function sorted(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}

/** Deterministic noise in [-1, 1). */
function noise(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function feedsFor(t: Target): Record<string, InstanceType<typeof ort.Tensor>> {
  const n = t.inputSize;
  const check = checkBatch(manifest, batch, n);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    image: new ort.Tensor("float32", check.images, [batch, 3, n, n]),
  };
  if (t.graph === "encoder") return feeds;
  const g = manifest.decoder.inputs;
  const side = Math.round(n / 16);
  for (const name of ["image_embeddings", "shallow_features"]) {
    const c = g[name]?.[1] ?? 1;
    const size = batch * c * side * side;
    feeds[name] = new ort.Tensor("float32", noise(size, c), [batch, c, side, side]);
  }
  for (const [name, v] of Object.entries(promptFeeds(manifest, check))) {
    feeds[name] = new ort.Tensor("float32", v.data, [...v.dims]);
  }
  return feeds;
}

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; provider?: string };
}

/** Milliseconds per run by "provider op", from the captured profile; first run dropped. */
function profileSummary(lines: string[]): { perRun: Map<string, number>; categories: string[] } {
  const events: TraceEvent[] = [];
  const categories = new Set<string>();
  for (const raw of lines) {
    const line = raw.trim().replace(/,$/, "");
    if (!line.startsWith('{"cat"')) continue;
    const e = JSON.parse(line) as TraceEvent;
    categories.add(e.cat);
    if (e.cat === "Node" && e.name.endsWith("_kernel_time")) events.push(e);
  }
  const per = events.length / (runs + 1);
  const perRun = new Map<string, number>();
  for (const e of events.slice(per)) {
    const k = `${(e.args?.provider ?? "?").replace("ExecutionProvider", "")} ${e.args?.op_name}`;
    perRun.set(k, (perRun.get(k) ?? 0) + e.dur / 1e3 / runs);
  }
  return { perRun, categories: [...categories] };
}

/** Host-side cost of the WebGPU API, by method: calls, milliseconds, bytes written. */
interface ApiStats {
  calls: Record<string, number>;
  ms: Record<string, number>;
  writeBytes: number;
  writeSourceBytes: number;
  /** Buffers created per run: "usage/mappedAtCreation" -> [count, bytes]. */
  created: Record<string, [number, number]>;
  /** Bytes of mapped ranges handed to JS, and the ms from getMappedRange to unmap (the copies). */
  mappedBytes: number;
  mappedWindowMs: number;
}
const apiStats: ApiStats = {
  calls: {},
  ms: {},
  writeBytes: 0,
  writeSourceBytes: 0,
  created: {},
  mappedBytes: 0,
  mappedWindowMs: 0,
};
const mappedAt = new WeakMap<object, number>();

/** Wraps every method of the WebGPU classes to time it (async ones until they settle). */
function traceWebGpuApi(): void {
  const g = globalThis as unknown as Record<string, { prototype: Record<string, unknown> }>;
  for (
    const cls of [
      "GPUQueue",
      "GPUDevice",
      "GPUBuffer",
      "GPUCommandEncoder",
      "GPUComputePassEncoder",
    ]
  ) {
    const proto = g[cls]?.prototype;
    if (!proto) continue;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || typeof d.value !== "function" || name === "constructor") continue;
      const fn = d.value as (...a: unknown[]) => unknown;
      const key = `${cls}.${name}`;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const t0 = performance.now();
        const done = (): void => {
          apiStats.calls[key] = (apiStats.calls[key] ?? 0) + 1;
          apiStats.ms[key] = (apiStats.ms[key] ?? 0) + performance.now() - t0;
        };
        if (key === "GPUQueue.writeBuffer") {
          const src = args[2] as ArrayBufferView | ArrayBuffer;
          const size = args[4] as number | undefined;
          apiStats.writeBytes += size ?? src.byteLength;
          apiStats.writeSourceBytes += src.byteLength;
        }
        if (key === "GPUDevice.createBuffer") {
          const d = args[0] as GPUBufferDescriptor;
          const k = `usage ${d.usage}${d.mappedAtCreation ? " mappedAtCreation" : ""}`;
          const [n, b] = apiStats.created[k] ?? [0, 0];
          apiStats.created[k] = [n + 1, b + d.size];
        }
        if (key === "GPUBuffer.unmap" && mappedAt.has(this as object)) {
          apiStats.mappedWindowMs += t0 - mappedAt.get(this as object)!;
          mappedAt.delete(this as object);
        }
        const r = fn.apply(this, args);
        if (key === "GPUBuffer.getMappedRange") {
          apiStats.mappedBytes += (r as ArrayBuffer).byteLength;
          mappedAt.set(this as object, performance.now());
        }
        if (r instanceof Promise) return r.finally(done);
        done();
        return r;
      };
    }
  }
}

/**
 * A WebGPU session of the graph, all optimisations on, the batch dimension `B` pinned with
 * `--fix-batch N` (`freeDimensionOverrides`), and `options` (log level, profiling) on top.
 */
function webgpuSession(bytes: Uint8Array, options: SessionOptions) {
  const pinned = values["fix-batch"]
    ? { freeDimensionOverrides: { B: Number(values["fix-batch"]) } }
    : {};
  return ort.InferenceSession.create(bytes, {
    executionProviders: ["webgpu"],
    graphOptimizationLevel: "all",
    ...pinned,
    ...options,
  });
}

/** Child: one graph's session(s); everything ORT prints goes to this process's stdout/stderr. */
async function child(t: Target): Promise<void> {
  const bytes = await Deno.readFile(t.file);
  ort.env.logLevel = "verbose";
  const session = await webgpuSession(bytes, {
    logSeverityLevel: 0,
    logVerbosityLevel: 0,
  });
  await session.release();
  if (values.api) return await apiChild(t, bytes);
  if (values.kernels) return await kernelChild(t, bytes);
  if (!values.profile) return;
  ort.env.logLevel = "error";
  const s = await webgpuSession(bytes, {
    logSeverityLevel: 3,
    enableProfiling: true,
  });
  const feeds = feedsFor(t);
  const wall: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = await s.run(feeds);
    for (const v of Object.values(r)) await v.getData();
    wall.push(performance.now() - t0);
  }
  out(`@@PROFILE-START`);
  s.endProfiling();
  await s.release();
  out(`@@WALL ${JSON.stringify(wall)}`);
}

/** Runs the graph at each batch of `--api` and prints the host-side WebGPU API cost per run. */
async function apiChild(t: Target, bytes: Uint8Array): Promise<void> {
  ort.env.logLevel = "error";
  traceWebGpuApi();
  const s = await webgpuSession(bytes, {
    logSeverityLevel: 3,
  });
  const reset = () => {
    apiStats.calls = {};
    apiStats.ms = {};
    apiStats.writeBytes = apiStats.writeSourceBytes = 0;
    apiStats.created = {};
    apiStats.mappedBytes = apiStats.mappedWindowMs = 0;
  };
  const summary = (wall: number, n: number) => {
    const per = (x: number) => x / n;
    const rows = Object.keys(apiStats.ms).sort((a, b) => apiStats.ms[b]! - apiStats.ms[a]!);
    return {
      wallMs: per(wall),
      apiMs: per(Object.values(apiStats.ms).reduce((x, y) => x + y, 0)),
      writeMB: per(apiStats.writeBytes) / 1e6,
      mappedMB: per(apiStats.mappedBytes) / 1e6,
      mappedWindowMs: per(apiStats.mappedWindowMs),
      created: apiStats.created,
      top: rows.slice(0, 8).map((
        k,
      ) => [k, per(apiStats.calls[k]!), +per(apiStats.ms[k]!).toFixed(2)]),
    };
  };
  for (const b of values.api!.split(",").map(Number)) {
    batch = b;
    const feeds = feedsFor(t);
    let cold: ReturnType<typeof summary> | undefined;
    let wall = 0;
    for (let i = 0; i <= runs; i++) {
      reset();
      if (i === 1) wall = 0;
      const t0 = performance.now();
      const r = await s.run(feeds);
      for (const v of Object.values(r)) await v.getData();
      wall += performance.now() - t0;
      if (i === 0) cold = summary(wall, 1);
    }
    // warm: the last run's API stats (reset before each run), wall averaged over the warm runs
    const warm = summary(0, 1);
    warm.wallMs = wall / runs;
    out(`@@API ${JSON.stringify({ batch: b, cold, warm })}`);
  }
  await s.release();
}

/**
 * One warm run with the session log at INFO (its "Starting program KEY (x, y, z)" line per
 * dispatch) and the profiler on (one "Api" event per dispatch, timed with GPU timestamps).
 */
async function kernelChild(t: Target, bytes: Uint8Array): Promise<void> {
  ort.env.logLevel = "info";
  const s = await webgpuSession(bytes, {
    logSeverityLevel: 1,
    enableProfiling: true,
  });
  const feeds = feedsFor(t);
  for (let i = 0; i <= runs; i++) {
    console.error(`@@RUN ${i}`); // stderr, in order with ORT's log
    const r = await s.run(feeds);
    for (const v of Object.values(r)) await v.getData();
  }
  out(`@@PROFILE-START`);
  s.endProfiling();
  await s.release();
}

/** One dispatch of the last run: node, program, GPU milliseconds, threads launched. */
interface Kernel {
  node: string;
  program: string;
  key: string;
  shapes: string;
  gpuMs: number;
  groups: number[];
  threads: number;
}

/** `log`: the child's stderr (ORT's log); `profile`: its stdout (the profile). */
function parseKernels(log: string[], profile: string[]): Kernel[] {
  const last = log.lastIndexOf(`@@RUN ${runs}`);
  const dispatches: { key: string; groups: number[] }[] = [];
  for (const line of log.slice(last)) {
    const m = /Starting program "(.*)" \((\d+), (\d+), (\d+)\)/.exec(line);
    if (m) dispatches.push({ key: m[1]!, groups: [+m[2]!, +m[3]!, +m[4]!] });
  }
  const api = profile.filter((l) => l.startsWith('{"cat" : "Api"'))
    .map((l) => JSON.parse(l.replace(/,$/, "")) as TraceEvent & { args: Record<string, string> });
  const mine = api.slice(api.length - dispatches.length);
  return dispatches.map((d, i) => {
    const e = mine[i]!;
    const [node, , program] = e.name.split("&");
    if (e.args.cache_key !== d.key) {
      throw new Error(`dispatch ${i}: ${e.args.cache_key} != ${d.key}`);
    }
    const wg = /\]:(\d+),(\d+),(\d+):/.exec(d.key)?.slice(1).map(Number) ?? [64, 1, 1];
    const threads = d.groups.reduce((a, b) => a * b, 1) * wg.reduce((a, b) => a * b, 1);
    return {
      node: node!,
      program: program ?? "?",
      key: d.key,
      shapes: e.args.shapes ?? "",
      gpuMs: e.dur / 1e3,
      groups: d.groups,
      threads,
    };
  });
}

if (values.child) {
  await child(JSON.parse(values.child) as Target);
  Deno.exit(0);
}

const report: Record<string, unknown> = {};
const adapter = await navigator.gpu?.requestAdapter();
out(`adapter: ${adapter ? `${adapter.info.vendor} ${adapter.info.description}` : "none"}`);
for (const t of targets) {
  const args = ["run", "-A", "--no-lock", new URL(import.meta.url).pathname, "--child"];
  args.push(JSON.stringify(t), "--model", values.model!, "--batch", String(batch));
  args.push("--runs", String(runs));
  if (values.profile) args.push("--profile");
  if (values.api) args.push("--api", values.api);
  if (values.kernels) args.push("--kernels");
  if (values["fix-batch"]) args.push("--fix-batch", values["fix-batch"]);
  const r = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(r.stdout) + "\n" + new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`Cannot inspect ${t.file}: child failed:\n${text.slice(-3000)}`);
  const lines = text.split("\n");
  const p = parsePlacement(lines);
  const total = (ep: string) => Object.values(p.byProvider[ep] ?? {}).reduce((a, b) => a + b, 0);
  out(`\n== ${t.file} (${t.graph}, input ${t.inputSize})`);
  for (const ep of Object.keys(p.byProvider)) {
    out(`  ${ep}: ${total(ep)} nodes: ${sorted(p.byProvider[ep]!)}`);
  }
  out(`  copy nodes added: ${p.copies.length}`);
  for (const c of p.copies) out(`    ${c}`);
  if (values.nodes) {
    for (const n of p.nodes["CPUExecutionProvider"] ?? []) out(`    CPU: ${n}`);
  }
  const entry: Record<string, unknown> = { ...p };
  if (values.kernels) {
    const ks = parseKernels(
      new TextDecoder().decode(r.stderr).split("\n"),
      new TextDecoder().decode(r.stdout).split("\n"),
    );
    const total = ks.reduce((a, k) => a + k.gpuMs, 0);
    const byProgram = new Map<string, [number, number]>();
    for (const k of ks) {
      const [n, ms] = byProgram.get(k.program) ?? [0, 0];
      byProgram.set(k.program, [n + 1, ms + k.gpuMs]);
    }
    out(
      `  kernels, batch ${batch}: ${ks.length} dispatches, GPU ${total.toFixed(1)} ms (timestamps)`,
    );
    const progs = [...byProgram].sort((a, b) => b[1][1] - a[1][1]).slice(0, 10);
    out(`    by program: ${progs.map(([p, [n, ms]]) => `${p} x${n} ${ms.toFixed(1)}`).join(", ")}`);
    for (const k of [...ks].sort((a, b) => b.gpuMs - a.gpuMs).slice(0, 12)) {
      out(
        `    ${k.gpuMs.toFixed(2).padStart(8)} ms  ${k.program} ${k.node}  groups ${
          k.groups.join("x")
        } threads ${k.threads}  ${k.shapes}`,
      );
    }
    entry.kernels = ks;
  }
  const api = [...text.matchAll(/@@API (.*)/g)].map((m) => JSON.parse(m[1]!));
  for (const a of api) {
    for (const phase of ["cold", "warm"]) {
      out(`  api batch ${a.batch} ${phase}: ${JSON.stringify(a[phase])}`);
    }
  }
  if (api.length) entry.api = api;
  if (values.profile) {
    const at = lines.indexOf("@@PROFILE-START");
    const wall = JSON.parse(/@@WALL (.*)/.exec(text)?.[1] ?? "[]") as number[];
    const { perRun, categories } = profileSummary(lines.slice(at));
    const rows = [...perRun].sort((a, b) => b[1] - a[1]);
    const sum = rows.reduce((a, [, ms]) => a + ms, 0);
    out(
      `  profile, batch ${batch}: wall ms per run ${
        wall.slice(1).map((w) => w.toFixed(0)).join(", ")
      } (first ${wall[0]?.toFixed(0)}); kernel-event ms per run ${
        sum.toFixed(1)
      }; event categories ${categories.join(", ")}`,
    );
    for (const [k, ms] of rows.slice(0, 15)) out(`    ${ms.toFixed(2).padStart(9)} ms  ${k}`);
    entry.profile = { batch, wall, perRun: Object.fromEntries(rows) };
  }
  report[t.file] = entry;
}
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(report, null, 1));
