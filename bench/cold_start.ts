/**
 * Where a cold start goes: each step from process start to the first masks of
 * the model, timed in fresh Deno processes (the median of `--runs`).
 *
 *     deno task bench:cold [--model DIR] [--threads 2] [--runs 5]
 *
 * Steps, in the order a `segment` run takes them (one process, one session
 * pair on onnxruntime-web WASM, batch 1):
 *
 * 1. runtime start: the parent spawns `deno run` until the child's first line
 *    of code runs (Deno start, module graph of this script);
 * 2. imports: onnxruntime-web and the model modules;
 * 3. WASM start + encoder session: the first session also instantiates the
 *    WASM runtime (compile, threads, ORT's environment);
 * 4. encoder session again: the same graph once more, so that 3 minus 4 is
 *    the runtime's own start;
 * 5. decoder session;
 * 6. first run: encoder then decoder on one prompt (first calls compile their
 *    kernels' code and grow the WASM memory);
 * 7. second run: the same, warm, for comparison.
 *
 * The parent also times the first write to each page of a fresh 64 MiB buffer:
 * on a machine where a page fault is slow (a virtual machine), every step
 * that touches new memory (reading the 14 MB WASM file, the WASM heap, the
 * first run's buffers) is slower by the same factor.
 *
 * `deno task segment`'s cold start (`deno task bench`) also includes the
 * scoped launcher's own Deno process, reading the image and writing the
 * outputs, and by default two sessions in workers.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_DIR } from "../src/model/default_model.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: DEFAULT_MODEL_DIR },
    threads: { type: "string", default: "2" },
    runs: { type: "string", default: "5" },
    // internal: the timed child; its argument is the parent's clock at spawn
    child: { type: "string" },
  },
});

const STEPS = [
  "runtime start",
  "imports",
  "WASM start + encoder session",
  "encoder session again",
  "decoder session",
  "first run (batch 1)",
  "second run (batch 1)",
] as const;

if (values.child !== undefined) {
  const laps: number[] = [Date.now() - Number(values.child)];
  let last = performance.now();
  const lap = () => {
    const now = performance.now();
    laps.push(now - last);
    last = now;
  };
  const { createGraphRunner } = await import("../src/model/ort_adapter.ts");
  const { graphFiles, loadManifest } = await import("../src/model/manifest.ts");
  const { checkBatch, promptFeeds } = await import("../src/model/sopseg_model.ts");
  lap();
  const manifest = await loadManifest(values.model!);
  const threads = Number(values.threads);
  // the graphs the runtime's WASM backend loads: the pre-optimised ones when the model has them
  const { preoptimized, ...files } = graphFiles(manifest, true);
  const bytes = {
    encoder: await Deno.readFile(`${manifest.dir}/${files.encoder}`),
    decoder: await Deno.readFile(`${manifest.dir}/${files.decoder}`),
  };
  last = performance.now(); // reading the two files is part of neither step
  const encoder = await createGraphRunner(bytes.encoder, {
    backend: "wasm",
    threads,
    preoptimized,
  });
  lap();
  const again = await createGraphRunner(bytes.encoder, { backend: "wasm", threads, preoptimized });
  lap();
  await again.release();
  last = performance.now();
  const decoder = await createGraphRunner(bytes.decoder, {
    backend: "wasm",
    threads,
    preoptimized,
  });
  lap();
  const s = manifest.inputSize;
  const check = checkBatch(manifest, 1); // the runtime's self-check batch
  const image = { data: check.images, dims: [1, 3, s, s] };
  const prompt = promptFeeds(manifest, check);
  for (let i = 0; i < 2; i++) {
    const enc = await encoder.run({ image });
    const out = await decoder.run({ image, ...enc, ...prompt });
    if (!(out.mask_logits!.data[0]! > -1e9)) throw new Error("decoder gave no masks");
    lap();
  }
  console.log(JSON.stringify(laps));
  await encoder.release();
  await decoder.release();
} else {
  const runs = Number(values.runs);
  const all: number[][] = [];
  const walls: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = Date.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--model",
        values.model!,
        "--threads",
        values.threads!,
        "--child",
        String(t0),
      ],
      stderr: "inherit",
    }).output();
    walls.push(Date.now() - t0);
    if (!out.success) throw new Error(`cold-start child failed (run ${r + 1})`);
    all.push(JSON.parse(new TextDecoder().decode(out.stdout)));
    console.error(`cold start: run ${r + 1}/${runs} ${walls.at(-1)} ms`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  // What fresh memory costs on this machine: the first write to each 4 KiB page of a new
  // 64 MiB buffer (a page fault each), then a second pass over the same pages.
  const fresh = new Uint8Array(64 << 20);
  const t0 = performance.now();
  for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 1;
  const t1 = performance.now();
  for (let i = 0; i < fresh.length; i += 4096) fresh[i] = 2;
  const t2 = performance.now();
  const pages = fresh.length / 4096;
  const load = (await Deno.loadavg()).map((x) => x.toFixed(2)).join(" ");
  console.log(
    `Cold start by step (\`deno task bench:cold --threads ${values.threads} --runs ${runs}\`, ` +
      `${values.model}; ${
        new Date().toISOString().slice(0, 16).replace("T", " ")
      } UTC, ${navigator.hardwareConcurrency} cores, load average ${load}):\n`,
  );
  console.log("| step | median ms | runs ms |\n|---|---|---|");
  STEPS.forEach((name, i) => {
    const xs = all.map((laps) => laps[i]!);
    console.log(
      `| ${name} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(", ")} |`,
    );
  });
  console.log(
    `| whole child process (spawn to exit) | ${median(walls)} | ${walls.join(", ")} |`,
  );
  console.log(
    `\nFresh memory on this machine: ${(1000 * (t1 - t0) / pages).toFixed(2)} us per 4 KiB page ` +
      `on first touch (64 MiB), ${(1000 * (t2 - t1) / pages).toFixed(2)} us on the second.`,
  );
}
