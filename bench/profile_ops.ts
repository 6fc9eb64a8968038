/**
 * Per-operator profile of the model's two graphs: onnxruntime-web (WASM) next
 * to the native onnxruntime CPU build (onnxruntime-node), same graphs, same
 * batch, same thread count, in one run.
 *
 *     deno run -A bench/profile_ops.ts [--model DIR] [--set main|small] [--threads 2]
 *       [--batch 8] [--runs 5] [--out-json FILE]
 *
 * `--set small`: the model's small graphs (`small_graphs`, the crops up to its routing
 * threshold: most vehicles), at their own input size.
 *
 * Both runtimes' own profilers (session option `enableProfiling`) time every
 * kernel; the first run of each session (warm-up) is dropped. Prints, per graph,
 * the time per batch by operator type and the slowest nodes, WASM next to
 * native. onnxruntime-web prints its profile to stdout when a session ends it,
 * so the WASM half runs in a child process whose stdout is that profile.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_DIR } from "../src/model/default_model.ts";
import { checkBatch, promptFeeds } from "../src/model/sopseg_model.ts";
import { type GraphSet, loadManifest } from "../src/model/manifest.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: DEFAULT_MODEL_DIR },
    set: { type: "string", default: "main" },
    threads: { type: "string", default: "2" },
    batch: { type: "string", default: "8" },
    runs: { type: "string", default: "5" },
    "out-json": { type: "string" },
    // internal: run the onnxruntime-web half and print its profile on stdout
    "wasm-child": { type: "boolean", default: false },
  },
});
const threads = Number(values.threads);
const batch = Number(values.batch);
const runs = Number(values.runs);
const manifest = await loadManifest(values.model!);
if (values.set !== "main" && values.set !== "small") {
  throw new TypeError(`--set must be main or small, not ${values.set}`);
}
if (values.set === "small" && !manifest.smallGraphs) {
  throw new TypeError(`${manifest.dir} has no small graphs (manifest small_graphs)`);
}
const set: GraphSet = values.set === "small" ? manifest.smallGraphs! : manifest;
const GRAPHS = ["encoder", "decoder"] as const;
type Graph = typeof GRAPHS[number];

/** One event of an onnxruntime profile (Chrome trace format). */
interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

/** The part of onnxruntime's JS API both builds share, as this script uses it. */
interface Runtime {
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(
      model: string | Uint8Array,
      options: Record<string, unknown>,
    ): Promise<ProfiledSession>;
  };
}
interface ProfiledSession {
  run(
    feeds: Record<string, unknown>,
  ): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  endProfiling(): unknown;
  release(): Promise<void>;
}

/**
 * Runs encoder then decoder `runs + 1` times each; returns the wall milliseconds
 * per batch of the timed runs. `profileOptions(graph)` adds the runtime's
 * profiling options (none: an unprofiled pass, for the profiler's own cost).
 */
async function profileGraphs(
  ort: Runtime,
  model: (graph: Graph) => string | Uint8Array,
  sessionOptions: Record<string, unknown>,
  profileOptions: (graph: Graph) => Record<string, unknown>,
): Promise<Record<Graph, number>> {
  const profiled = Object.keys(profileOptions("encoder")).length > 0;
  const n = set.inputSize;
  const b = checkBatch(manifest, batch, n);
  const t = (data: Float32Array, dims: number[]) => new ort.Tensor("float32", data, dims);
  const image = t(b.images, [batch, 3, n, n]);
  const wall = { encoder: 0, decoder: 0 };
  const enc = await ort.InferenceSession.create(model("encoder"), {
    ...sessionOptions,
    ...profileOptions("encoder"),
  });
  let emb: Record<string, { data: unknown; dims: readonly number[] }> = {};
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    emb = await enc.run({ image });
    if (i > 0) wall.encoder += (performance.now() - t0) / runs;
  }
  if (profiled) enc.endProfiling();
  await enc.release();
  const dec = await ort.InferenceSession.create(model("decoder"), {
    ...sessionOptions,
    ...profileOptions("decoder"),
  });
  const feeds = {
    image,
    image_embeddings: emb.image_embeddings,
    shallow_features: emb.shallow_features,
    ...Object.fromEntries(
      Object.entries(promptFeeds(manifest, b)).map(([k, v]) => [k, t(v.data, [...v.dims])]),
    ),
  };
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    await dec.run(feeds);
    if (i > 0) wall.decoder += (performance.now() - t0) / runs;
  }
  if (profiled) dec.endProfiling();
  await dec.release();
  return wall;
}

const graphBytes = async (g: Graph) => await Deno.readFile(`${manifest.dir}/${set[g].file}`);

if (values["wasm-child"]) {
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = "error";
  const bytes = { encoder: await graphBytes("encoder"), decoder: await graphBytes("decoder") };
  const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
  const rt = ort as unknown as Runtime;
  const plain = await profileGraphs(rt, (g) => bytes[g], options, () => ({}));
  const wall = await profileGraphs(rt, (g) => bytes[g], options, () => ({ enableProfiling: true }));
  console.error(`WALL ${JSON.stringify(wall)}`);
  console.error(`PLAIN ${JSON.stringify(plain)}`);
  Deno.exit(0);
}

/** Kernel events per profile, in order, from text holding one or more profiles. */
function parseProfiles(text: string): TraceEvent[][] {
  const profiles: TraceEvent[][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/,$/, "");
    if (line === "[") profiles.push([]);
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as TraceEvent;
    if (e.cat === "Node" && e.name.endsWith("_kernel_time")) profiles.at(-1)?.push(e);
  }
  return profiles;
}

/** Each key's smallest and largest milliseconds in one timed run. */
function rangePerRun(events: TraceEvent[], key: (e: TraceEvent) => string) {
  const perRun = events.length / (runs + 1);
  const out = new Map<string, [number, number]>();
  for (let r = 1; r <= runs; r++) {
    const inRun = new Map<string, number>();
    for (const e of events.slice(r * perRun, (r + 1) * perRun)) {
      inRun.set(key(e), (inRun.get(key(e)) ?? 0) + e.dur / 1e3);
    }
    for (const [k, ms] of inRun) {
      const [lo, hi] = out.get(k) ?? [Infinity, -Infinity];
      out.set(k, [Math.min(lo, ms), Math.max(hi, ms)]);
    }
  }
  return out;
}

/** Milliseconds per batch by key, over the timed runs (the first run's kernels dropped). */
function perBatch(events: TraceEvent[], key: (e: TraceEvent) => string): Map<string, number> {
  const perRun = events.length / (runs + 1);
  if (!Number.isInteger(perRun)) {
    throw new Error(`profile has ${events.length} kernels, not a multiple of ${runs + 1} runs`);
  }
  const out = new Map<string, number>();
  for (const e of events.slice(perRun)) {
    const k = key(e);
    out.set(k, (out.get(k) ?? 0) + e.dur / 1e3 / runs);
  }
  return out;
}

// WASM half: a child process.
const self = new URL(import.meta.url).pathname;
const child = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    self,
    "--wasm-child",
    "--model",
    values.model!,
    "--set",
    values.set,
    "--threads",
    String(threads),
    "--batch",
    String(batch),
    "--runs",
    String(runs),
  ],
  stdout: "piped",
  stderr: "piped",
}).output();
const childErr = new TextDecoder().decode(child.stderr);
if (!child.success) throw new Error(`WASM profile failed:\n${childErr}`);
const wasmWall = JSON.parse(/WALL (.*)/.exec(childErr)![1]!) as Record<Graph, number>;
const wasmPlain = JSON.parse(/PLAIN (.*)/.exec(childErr)![1]!) as Record<Graph, number>;
const wasmProfiles = parseProfiles(new TextDecoder().decode(child.stdout));

// Native half: onnxruntime-node writes its profile to a file per session.
// deno-lint-ignore no-import-prefix
const ortNode = await import("npm:onnxruntime-node@1.30.0");
const dir = await Deno.makeTempDir({ prefix: "sopseg-prof-" });
const nativeOptions = {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
};
const nodeRt = ortNode as unknown as Runtime;
const nativeFile = (g: Graph) => `${manifest.dir}/${set[g].file}`;
const nativePlain = await profileGraphs(nodeRt, nativeFile, nativeOptions, () => ({}));
const nativeWall = await profileGraphs(
  nodeRt,
  nativeFile,
  nativeOptions,
  (g) => ({ enableProfiling: true, profileFilePrefix: `${dir}/${g}` }),
);
const nativeProfiles: TraceEvent[][] = [];
for (const g of GRAPHS) {
  const files = [...Deno.readDirSync(dir)].filter((f) => f.name.startsWith(`${g}_`));
  if (files.length !== 1) throw new Error(`expected one native profile for ${g} in ${dir}`);
  const events = JSON.parse(await Deno.readTextFile(`${dir}/${files[0]!.name}`)) as TraceEvent[];
  nativeProfiles.push(events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time")));
}
await Deno.remove(dir, { recursive: true });
if (wasmProfiles.length !== 2) {
  throw new Error(`expected 2 WASM profiles, got ${wasmProfiles.length}`);
}

const fmt = (x: number | undefined) => x === undefined ? "-" : x.toFixed(2);
const ratio = (a?: number, b?: number) => a !== undefined && b ? (a / b).toFixed(2) : "-";
const report: Record<string, unknown> = {
  threads,
  batch,
  runs,
  model: manifest.dir,
  set: values.set,
  inputSize: set.inputSize,
};
const lines: string[] = [
  `Per-operator profile: ${manifest.dir}, ${values.set} graphs (input ${set.inputSize}),` +
  ` batch ${batch}, ${threads} threads, ${runs} timed runs` +
  ` (kernel times from each runtime's profiler, ms per batch).`,
  "",
];
GRAPHS.forEach((g, i) => {
  const w = wasmProfiles[i]!, nat = nativeProfiles[i]!;
  const opOf = (e: TraceEvent) => e.args?.op_name ?? "?";
  const nodeOf = (e: TraceEvent) => `${e.name.replace(/_kernel_time$/, "")} (${opOf(e)})`;
  const wOps = perBatch(w, opOf), nOps = perBatch(nat, opOf);
  const wNodes = perBatch(w, nodeOf), nNodes = perBatch(nat, nodeOf);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const wSum = sum(wOps), nSum = sum(nOps);
  lines.push(
    `#### ${g}: kernels WASM ${fmt(wSum)} ms, native ${fmt(nSum)} ms (${ratio(wSum, nSum)}x);` +
      ` wall per run WASM ${fmt(wasmWall[g])} ms, native ${fmt(nativeWall[g])} ms` +
      ` (${ratio(wasmWall[g], nativeWall[g])}x); kernels per run WASM ${w.length / (runs + 1)},` +
      ` native ${nat.length / (runs + 1)}; without profiling, wall per run WASM ${
        fmt(wasmPlain[g])
      } ms, native ${fmt(nativePlain[g])} ms (${ratio(wasmPlain[g], nativePlain[g])}x)`,
    "",
    "| operator | WASM ms | native ms | WASM / native | share of WASM |",
    "|---|---|---|---|---|",
  );
  const ops = [...new Set([...wOps.keys(), ...nOps.keys()])]
    .sort((a, b) => (wOps.get(b) ?? 0) - (wOps.get(a) ?? 0));
  for (const op of ops) {
    const a = wOps.get(op), b = nOps.get(op);
    lines.push(
      `| ${op} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} | ${
        ((100 * (a ?? 0)) / wSum).toFixed(1)
      } % |`,
    );
  }
  const wRange = rangePerRun(w, nodeOf);
  lines.push(
    "",
    "| slowest WASM nodes | WASM ms | WASM min-max ms over the runs | native ms (same node name) |",
    "|---|---|---|---|",
  );
  for (const [node, ms] of [...wNodes].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    const [lo, hi] = wRange.get(node)!;
    lines.push(`| ${node} | ${fmt(ms)} | ${fmt(lo)}-${fmt(hi)} | ${fmt(nNodes.get(node))} |`);
  }
  lines.push("");
  report[g] = {
    wasmKernelMs: wSum,
    nativeKernelMs: nSum,
    wasmWallMs: wasmWall[g],
    nativeWallMs: nativeWall[g],
    wasmUnprofiledWallMs: wasmPlain[g],
    nativeUnprofiledWallMs: nativePlain[g],
    wasmByOp: Object.fromEntries(wOps),
    nativeByOp: Object.fromEntries(nOps),
    wasmByNode: Object.fromEntries(wNodes),
    nativeByNode: Object.fromEntries(nNodes),
  };
});
console.log(lines.join("\n"));
if (values["out-json"]) {
  await Deno.writeTextFile(values["out-json"], JSON.stringify(report, null, 1) + "\n");
}
