// Runs an exported model directory through onnxruntime-web (the runtime's engine) on the
// tensors that training/ort_parity.py dumped, and prints the max |diff| per output as JSON.
// Usage (from the repository root):
//   deno run -A --config deno.json training/ort_parity.ts <model_dir> <dump_dir>
import * as ort from "onnxruntime-web";

const [modelDir, dumpDir] = Deno.args;
if (!modelDir || !dumpDir) throw new TypeError("Cannot run: usage ort_parity.ts <model_dir> <dump_dir>");
const meta: Record<string, number[]> = JSON.parse(await Deno.readTextFile(`${dumpDir}/meta.json`));
const load = async (k: string) =>
  new ort.Tensor("float32", new Float32Array((await Deno.readFile(`${dumpDir}/${k}.bin`)).buffer), meta[k]);
const maxDiff = (a: Float32Array, b: Float32Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const enc = await ort.InferenceSession.create(await Deno.readFile(`${modelDir}/encoder.onnx`));
const dec = await ort.InferenceSession.create(await Deno.readFile(`${modelDir}/decoder.onnx`));
const result: Record<string, { dims: readonly number[]; max_abs_diff: number }> = {};
const e = await enc.run({ image: await load("image") });
for (const k of ["image_embeddings", "shallow_features"]) {
  result[k] = { dims: e[k]!.dims, max_abs_diff: maxDiff(e[k]!.data as Float32Array, (await load(k)).data as Float32Array) };
}
const feeds: Record<string, ort.Tensor> = {};
// every decoder input the graph has (the class prompt only in models that have one)
for (const k of dec.inputNames) feeds[k] = await load(k);
const o = await dec.run(feeds);
for (const k of dec.outputNames) {
  result[k] = { dims: o[k]!.dims, max_abs_diff: maxDiff(o[k]!.data as Float32Array, (await load(k)).data as Float32Array) };
}
console.log(JSON.stringify(result));
