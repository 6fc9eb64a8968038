/**
 * `deno task bench`: end-to-end throughput, time split and peak memory of the
 * segment pipeline per backend and setting, side by side in one run, plus the
 * native onnxruntime CPU build as the hardware reference for the model calls.
 * Prints a table and appends it to BENCHMARKS.md.
 *
 *     deno task bench [--quick] [--no-large] [--webgpu-software] [--serve-only] [--no-serve]
 *
 * WASM rows run either one session whose threads share each operator, or
 * several single-threaded sessions (workers) on alternate batches. Each row is
 * timed from the model loaded with every graph set's sessions open
 * (bench/bench_run.ts) to the last file written. Two more
 * rows time `deno task segment` as whole processes, start-up included: on the
 * DOTA samples, and on one box (cold start: process start to first mask
 * written), the median of three runs each.
 *
 * `--serve-only` runs only the JSON-RPC server rows (bench/bench_serve.ts):
 * one-box `segment` round trips on a warm server and its memory after 10 and
 * 1,000 requests; `--no-serve` leaves them out.
 *
 * Data: the DOTA samples in ../shared/data (600 boxes, read in place) and the
 * large GeoTIFF made by bench/make_large_raster.ts (made on first use).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { isAbsolute } from "node:path";
import { probeWebGpu } from "../src/model/ort_adapter.ts";
import { STAGES } from "../src/pipeline/timings.ts";

interface Row {
  label: string;
  data: string;
  backend: string;
  threads: number;
  sessions: number;
  batch: number;
  instances: number;
  seconds: number;
  timings: Record<string, number>;
  peakRssMb: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean" },
    "no-large": { type: "boolean" },
    "webgpu-software": { type: "boolean" },
    "serve-only": { type: "boolean" },
    "no-serve": { type: "boolean" },
    out: { type: "string", default: "BENCHMARKS.md" },
  },
});
const root = new URL("..", import.meta.url).pathname;
const cores = navigator.hardwareConcurrency;
const dota = {
  images: `${root}../shared/data/dota-samples/images`,
  detections: `${root}../shared/data/dota-samples/labelTxt`,
};
const p1888 = {
  images: `${dota.images}/P1888.png`,
  detections: `${dota.detections}/P1888.txt`,
};
// The shipped model's manifest, read once: which rows to run, and the table's model note.
const shipped = await Deno.readTextFile(`${root}models/sopseg-lite/manifest.json`).then(
  JSON.parse,
  () => null,
);
const large = {
  images: `${root}bench/data/images/large.tif`,
  detections: `${root}bench/data/labelTxt/large.txt`,
};

async function run(args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    // --no-lock: the native reference (npm:onnxruntime-node, --backend native)
    // stays out of deno.lock, so a user's first run never downloads it.
    args: ["run", "-A", "--no-lock", `${root}bench/bench_run.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) {
    throw new Error(`bench_run ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

const rows: Row[] = [];
async function measure(
  label: string,
  dataName: string,
  data: { images: string; detections: string } | null,
  backend: string,
  threads: number,
  batch: number,
  sessions = 1,
  extra: string[] = [],
) {
  if (values["serve-only"]) return;
  const args = ["--backend", backend, "--threads", String(threads), "--batch", String(batch)];
  args.push(...extra);
  if (sessions > 1) args.push("--sessions", String(sessions));
  if (data) args.push("--images", data.images, "--detections", data.detections);
  else args.push("--instances", values.quick ? "64" : "256");
  console.error(`bench: ${label} on ${dataName} ...`);
  const r = await run(args);
  const row: Row = {
    label,
    data: dataName,
    backend: String(r.backend),
    threads,
    sessions,
    batch,
    instances: Number(r.instances),
    seconds: Number(r.seconds),
    timings: r.timings as Record<string, number>,
    peakRssMb: Number(r.peakRssMb),
  };
  rows.push(row);
  console.error(
    `bench:   ${(row.instances / row.seconds).toFixed(1)} inst/s, peak ${
      row.peakRssMb.toFixed(0)
    } MB`,
  );
}

const dotaSet = values.quick
  ? { name: "P1888 (64 boxes)", data: p1888 }
  : { name: "DOTA samples (600 boxes)", data: dota };
// A model with small graphs: these rows run every crop on the main graphs (`--small-graphs
// off`, what the native reference runs too), and the rows after them the same settings with
// the crops that fit on the small graphs, side by side (what they save).
const hasSmall = shipped !== null && shipped.small_graphs !== undefined;
const smallByDefault = hasSmall && shipped.small_graphs.default === true;
const off = hasSmall ? ", small graphs off" : "";
const smallOff = hasSmall ? ["--small-graphs", "off"] : [];
const smallOn = ["--small-graphs", "on"];
const wasmRow = (label: string, threads: number, batch: number, sessions = 1, extra = smallOff) =>
  measure(label, dotaSet.name, dotaSet.data, "wasm", threads, batch, sessions, extra);
await wasmRow(`wasm, 1 thread, batch 8${off}`, 1, 8);
await wasmRow(`wasm, ${cores} threads, batch 1${off}`, cores, 1);
await wasmRow(`wasm, ${cores} threads, batch 8${off}`, cores, 8);
await wasmRow(`wasm, ${cores} threads, batch 32${off}`, cores, 32);
const pooled = `wasm, ${cores} sessions x 1 thread, batch 8`;
await wasmRow(pooled + off, cores, 8, cores);
if (hasSmall) {
  await wasmRow(`wasm, ${cores} threads, batch 8, small graphs on`, cores, 8, 1, smallOn);
  await wasmRow(`${pooled}, small graphs on`, cores, 8, cores, smallOn);
}
const gpu = await probeWebGpu();
if (gpu.available && (!gpu.software || values["webgpu-software"])) {
  await measure(`webgpu (${gpu.description}), batch 8`, dotaSet.name, dotaSet.data, "webgpu", 1, 8);
}
await measure(
  `native onnxruntime-node, ${cores} threads, batch 8 (model calls only)`,
  "fixed batches",
  null,
  "native",
  cores,
  8,
);
if (!values["no-large"] && !values["serve-only"]) {
  try {
    await Deno.stat(large.images);
  } catch {
    console.error("bench: making the large GeoTIFF (bench/make_large_raster.ts) ...");
    const make = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}bench/make_large_raster.ts`, "--out", `${root}bench/data`],
    }).output();
    if (!make.success) throw new Error(new TextDecoder().decode(make.stderr));
  }
  await measure(
    `wasm, ${cores} threads, batch 8${off}`,
    "20000x20000 GeoTIFF (1000 boxes)",
    large,
    "wasm",
    cores,
    8,
    1,
    smallOff,
  );
}

// Whole processes: `deno task segment` as a user runs it, start-up included.
interface ProcessRow {
  label: string;
  instances: number;
  seconds: number[];
}
const processRows: ProcessRow[] = [];
async function timeProcess(label: string, data: { images: string; detections: string }) {
  if (values["serve-only"]) return;
  console.error(`bench: ${label} ...`);
  const seconds: number[] = [];
  let instances = 0;
  for (let i = 0; i < 3; i++) {
    const out = await Deno.makeTempDir({ prefix: "sopseg-bench-proc-" });
    const args = ["task", "-q", "segment", "--images", data.images, "--detections"];
    args.push(data.detections, "--out", out, "--quiet");
    const t0 = performance.now();
    const r = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).output();
    seconds.push((performance.now() - t0) / 1e3);
    const err = new TextDecoder().decode(r.stderr);
    await Deno.remove(out, { recursive: true });
    const done = /done: (\d+) masks/.exec(err);
    if (!r.success || !done) throw new Error(`deno task segment failed:\n${err}`);
    instances = Number(done[1]);
  }
  seconds.sort((a, b) => a - b);
  processRows.push({ label, instances, seconds });
  const median = seconds[1]!;
  console.error(
    `bench:   median ${median.toFixed(2)} s, ${(instances / median).toFixed(1)} inst/s`,
  );
}
// `deno task segment` as users run it: the model's own choice of graphs
const segmentDefault = hasSmall
  ? ` (small graphs ${smallByDefault ? "on" : "off"}: the model's default)`
  : "";
await timeProcess(
  "whole process: `deno task segment` on " + dotaSet.name + segmentDefault,
  dotaSet.data,
);
const oneBox = await Deno.makeTempDir({ prefix: "sopseg-bench-one-" });
await Deno.writeTextFile(
  `${oneBox}/P1888.txt`,
  (await Deno.readTextFile(p1888.detections)).split("\n").filter((l) => /^\d/.test(l)).slice(0, 1)
    .join("\n") + "\n",
);
await timeProcess("cold start: `deno task segment` on one box of P1888.png" + segmentDefault, {
  images: p1888.images,
  detections: `${oneBox}/P1888.txt`,
});
await Deno.remove(oneBox, { recursive: true });
const processTable = processRows.length === 0 ? [] : [
  "| whole process (start-up included) | instances | median s (3 runs) | runs s | inst/s |",
  "|---|---|---|---|---|",
  ...processRows.map((p) =>
    `| ${p.label} | ${p.instances} | ${p.seconds[1]!.toFixed(2)} | ${
      p.seconds.map((x) => x.toFixed(2)).join(", ")
    } | ${(p.instances / p.seconds[1]!).toFixed(1)} |`
  ),
  "",
];

// The JSON-RPC server: round trips of one-box requests on a warm server, and memory.
interface ServeRow {
  backend: string;
  threads: number;
  requests: number;
  timed: number;
  medianMs: number;
  p95Ms: number;
  rss10Mb: number;
  rssEndMb: number;
}
let serveRow: ServeRow | null = null;
if (!values["no-serve"]) {
  const requests = values.quick ? 200 : 1000;
  console.error(`bench: JSON-RPC server, ${requests} one-box requests ...`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${root}bench/bench_serve.ts`,
      "--threads",
      String(cores),
      "--requests",
      String(requests),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`bench_serve failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  serveRow = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  console.error(
    `bench:   median ${serveRow!.medianMs.toFixed(1)} ms, p95 ${serveRow!.p95Ms.toFixed(1)} ms`,
  );
}
const serveTable = serveRow === null ? [] : [
  "| JSON-RPC server (`deno task serve`) | requests | round trip median ms | p95 ms | RSS after 10 MB | RSS after all MB |",
  "|---|---|---|---|---|---|",
  `| one-box \`segment\` on P1888.png (the 64 DOTA boxes in turn), warm, ${serveRow.backend}, ${serveRow.threads} threads | ${serveRow.requests} (first 10 not timed) | ${
    serveRow.medianMs.toFixed(1)
  } | ${serveRow.p95Ms.toFixed(1)} | ${serveRow.rss10Mb.toFixed(0)} | ${
    serveRow.rssEndMb.toFixed(0)
  } |`,
  "",
];

// Table.
const fmt = (v: number, d = 1) => v.toFixed(d);
const header = `| setting | data | inst/s | ${STAGES.join(" | ")} | outside model | peak RSS MB |`;
const sep = `|${"---|".repeat(STAGES.length + 5)}`;
const lines = rows.map((r) => {
  // With several sessions the model stages run side by side: each is shown as a
  // share of the sessions' time (its summed time / sessions / wall time).
  const per = (s: string) => (s === "encoder" || s === "decoder" ? r.sessions : 1);
  const model = ((r.timings.encoder ?? 0) + (r.timings.decoder ?? 0)) / r.sessions;
  const stage = STAGES.map((s) =>
    r.timings[s] === undefined ? "-" : `${fmt((100 * r.timings[s]!) / per(s) / r.seconds, 0)} %`
  );
  const outside = r.backend === "native"
    ? "-"
    : `${fmt((100 * (r.seconds - model)) / r.seconds, 0)} %`;
  return `| ${r.label} | ${r.data} | ${fmt(r.instances / r.seconds)} | ${
    stage.join(" | ")
  } | ${outside} | ${fmt(r.peakRssMb, 0)} |`;
});
// the native reference runs the main graphs: compare it with a WASM row that does too
const wasmModel = rows.find((r) =>
  r.backend === "wasm" && r.threads === cores && r.batch === 8 && r.data === dotaSet.name &&
  r.sessions === 1 && !r.label.endsWith("small graphs on")
);
const native = rows.find((r) => r.backend === "native");
let ratio = "";
if (wasmModel && native) {
  const wasmPer = (wasmModel.timings.encoder! + wasmModel.timings.decoder!) / wasmModel.instances;
  const nativePer = native.seconds / native.instances;
  ratio =
    `Model calls per instance: WASM ${fmt(wasmPer * 1e3)} ms, native ${fmt(nativePer * 1e3)} ms: ` +
    `WASM is ${
      fmt(wasmPer / nativePer, 2)
    }x the native CPU build's time (same graphs, ${cores} threads, batch 8).`;
}
const cpu = (() => {
  try {
    return /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ??
      "unknown CPU";
  } catch {
    return "unknown CPU";
  }
})();
const load = (() => {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
})();
const modelNote = (() => {
  if (shipped === null) return "no manifest";
  const t = shipped.training ?? {};
  return t.random_init || !t.samples_seen
    ? "untrained random-init export: speed only"
    : `trained: ${t.samples_seen} samples, step ${t.step}`;
})();
const when = new Date().toISOString().slice(0, 16).replace("T", " ");
const block = [
  `### ${when} UTC, ${cores} cores, ${cpu}`,
  "",
  `Command: \`deno task bench${
    Deno.args.length ? " " + Deno.args.join(" ") : ""
  }\`; model models/sopseg-lite (${modelNote}); load average at the end ${load}.`,
  "",
  ...(rows.length
    ? [
      header,
      sep,
      ...lines,
      "",
      "Rows timed from the model loaded, every graph set's sessions open, to the last file written; start-up is in the whole-process rows.",
      "",
      ratio,
      "",
    ]
    : []),
  ...processTable,
  ...serveTable,
].join("\n");
console.log(block);
// relative to the repository (BENCHMARKS.md by default); an absolute path as it is
const path = isAbsolute(values.out!) ? values.out! : `${root}${values.out}`;
let existing = "";
try {
  existing = await Deno.readTextFile(path);
} catch {
  existing =
    "# Benchmarks\n\nRows from `deno task bench` (bench/bench.ts). Percentages are shares of the end-to-end wall time of each row (encoder and decoder: of the sessions' time); the native row times the two model calls only.\n\n";
}
await Deno.writeTextFile(path, existing + "\n" + block);
console.error(`bench: appended to ${path}`);
