/**
 * A/B of two exports of the decoder (or of the encoder) on onnxruntime-web
 * WASM, interleaved in one process: session creation time (after a first,
 * untimed creation of each, so the runtime's first-call costs are out), run
 * time per batch, and the largest difference between their outputs on the
 * same inputs. For graph rewrites that must not change the numbers.
 *
 *     deno task bench:graph-ab --a models/sopseg-lite --b /tmp/other-export \
 *       [--graph decoder] [--threads 1] [--batch 8] [--runs 12]
 *
 * Inputs: the runtime's self-check batch (`checkBatch`); the decoder also
 * gets the A encoder's features of it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-web";
import { loadManifest } from "../src/model/manifest.ts";
import { checkBatch, promptFeeds } from "../src/model/sopseg_model.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string" },
    b: { type: "string" },
    graph: { type: "string", default: "decoder" },
    threads: { type: "string", default: "1" },
    batch: { type: "string", default: "8" },
    runs: { type: "string", default: "12" },
  },
});
if (!values.a || !values.b || !["encoder", "decoder"].includes(values.graph!)) {
  console.error("usage: bench/graph_ab.ts --a DIR --b DIR [--graph encoder|decoder]");
  Deno.exit(2);
}
ort.env.wasm.numThreads = Number(values.threads);
ort.env.logLevel = "error";
const batch = Number(values.batch);
const runs = Number(values.runs);
const graph = values.graph as "encoder" | "decoder";
const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" as const };

const dirs = [values.a, values.b];
const manifests = await Promise.all(dirs.map((d) => loadManifest(d)));
const bytes = await Promise.all(
  manifests.map((m) => Deno.readFile(`${m.dir}/${m[graph].file}`)),
);
const s = manifests[0]!.inputSize;
// the runtime's own self-check batch: a textured image with a rotated bar, an oriented prompt
const check = checkBatch(manifests[0]!, batch);
const image = new ort.Tensor("float32", check.images, [batch, 3, s, s]);
let feeds: Record<string, ort.Tensor> = { image };
if (graph === "decoder") {
  const encoder = await ort.InferenceSession.create(
    await Deno.readFile(`${manifests[0]!.dir}/${manifests[0]!.encoder.file}`),
    options,
  );
  const features = await encoder.run({ image });
  feeds = {
    image,
    image_embeddings: features.image_embeddings!,
    shallow_features: features.shallow_features!,
    ...Object.fromEntries(
      Object.entries(promptFeeds(manifests[0]!, check)).map((
        [k, v],
      ) => [k, new ort.Tensor("float32", v.data, [...v.dims])]),
    ),
  };
}

const create: number[][] = [[], []];
const sessions: ort.InferenceSession[] = [];
for (let r = 0; r <= 6; r++) {
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes[i]!, options);
    if (r > 0) create[i]!.push(performance.now() - t0);
    if (r < 6) await session.release();
    else sessions.push(session);
  }
}
const run: number[][] = [[], []];
const outputs: Record<string, ort.Tensor>[] = [];
for (let r = 0; r < runs + 2; r++) {
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const out = await sessions[i]!.run(feeds);
    if (r >= 2) run[i]!.push(performance.now() - t0);
    if (r === 0) outputs.push(out);
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(
  `${graph}, onnxruntime-web WASM, ${values.threads} thread(s), batch ${batch}; ` +
    `A = ${values.a}, B = ${values.b}\n`,
);
console.log("| | A | B | B / A |\n|---|---|---|---|");
for (
  const [name, xs] of [["session creation ms (median of 6)", create], [
    `run ms per batch (median of ${runs})`,
    run,
  ]] as const
) {
  const [a, b] = [median(xs[0]!), median(xs[1]!)];
  console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(3)} |`);
}
console.log(`| file bytes | ${bytes[0]!.length} | ${bytes[1]!.length} | |`);
for (const name of new Set([...Object.keys(outputs[0]!), ...Object.keys(outputs[1]!)])) {
  if (!outputs[0]![name] || !outputs[1]![name]) {
    console.log(`${name}: only in ${outputs[0]![name] ? "A" : "B"}`);
    continue;
  }
  const x = outputs[0]![name]!.data as Float32Array;
  const y = outputs[1]![name]!.data as Float32Array;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
  console.log(`max |A - B| ${name}: ${diff}`);
}
