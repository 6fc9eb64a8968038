/**
 * Writes a model's two graphs pre-optimised for onnxruntime's CPU kernels, in ORT format,
 * and names them in its manifest (`wasm_graphs`, and `small_graphs.wasm_graphs` for a model
 * with small graphs). The runtime's WASM backend loads them
 * with the optimiser off: at start-up it then neither runs onnxruntime's graph
 * transformers nor compiles their code (V8 compiles WASM functions on first call), which
 * is about half a second of a cold start (BENCHMARKS.md). Run after every export:
 *
 *     deno task model:optimize [models/sopseg-lite]
 *
 * The optimisation is onnxruntime-node's (the native build of the same onnxruntime
 * version as onnxruntime-web) at level `extended`: the fusions every CPU build makes
 * (Conv+activation, MatMul+scale, LayerNorm, Gelu, constant folding), none of the native
 * build's AVX-only layouts (those are level `all`). Constant folding runs natively here,
 * so folded values may differ from a WASM-side fold in the last bits (test/model/
 * wasm_graphs_test.ts holds the two within 1e-4 of each other).
 *
 * @module
 */
const ORT_VERSION = "1.30.0";
const ort = await import(`npm:onnxruntime-node@${ORT_VERSION}`);

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const dir = Deno.args[0] ?? "models/sopseg-lite";
const manifestPath = `${dir}/manifest.json`;
const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
/** Writes the pre-optimised graphs of one graph set (the manifest, or its `small_graphs`). */
async function optimizeSet(set: Record<string, { file: string }>): Promise<object> {
  const made: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const key of ["encoder", "decoder"] as const) {
    const src: string = set[key]!.file;
    const out = src.replace(/\.onnx$/, "") + ".wasm.ort";
    const tmp = `${dir}/.${out}.tmp.ort`;
    from[src] = await sha256Hex(await Deno.readFile(`${dir}/${src}`));
    const session = await ort.InferenceSession.create(`${dir}/${src}`, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "extended",
      intraOpNumThreads: 1,
      optimizedModelFilePath: tmp,
    });
    await session.release();
    await Deno.rename(tmp, `${dir}/${out}`);
    made[key] = out;
    console.error(`${dir}/${src} -> ${dir}/${out}`);
  }
  return {
    encoder: made.encoder,
    decoder: made.decoder,
    made_from_sha256: from,
    made_by:
      `training/optimize_graphs.ts: onnxruntime-node ${ORT_VERSION}, graphOptimizationLevel extended`,
  };
}

manifest.wasm_graphs = await optimizeSet(manifest);
if (manifest.small_graphs) manifest.small_graphs.wasm_graphs = await optimizeSet(manifest.small_graphs);
const tmp = `${manifestPath}.tmp`;
await Deno.writeTextFile(tmp, JSON.stringify(manifest, null, 2) + "\n");
await Deno.rename(tmp, manifestPath);
