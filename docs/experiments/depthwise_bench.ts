/**
 * Times the single-layer models of `depthwise_rewrites.py` in onnxruntime-web's WASM backend,
 * interleaved (each model once per round, 30 rounds after one untimed run each), and checks
 * that every rewrite gives the Conv's output (max |diff| <= 1e-4).
 *
 *     /usr/bin/python3 docs/experiments/depthwise_rewrites.py /tmp/dw
 *     deno run -A docs/experiments/depthwise_bench.ts /tmp/dw 2   # WASM threads
 *
 * @module
 */
import * as ort from "onnxruntime-web";

const [dir = "/tmp/dw", threads = "2"] = Deno.args;
ort.env.wasm.numThreads = Number(threads);
ort.env.logLevel = "error";
const batch = 8;
for (const tag of ["72_48_1", "144_24_1", "288_12_1", "72_48_2"]) {
  const [c, size] = tag.split("_").map(Number) as [number, number];
  const x = new Float32Array(batch * c * size * size).map(() => Math.random() - 0.5);
  const feeds = { x: new ort.Tensor("float32", x, [batch, c, size, size]) };
  const entries = [];
  let reference: Float32Array | undefined;
  for (const variant of ["A", "G2", "G4", "G8", "E"]) {
    const path = `${dir}/${variant}_${tag}.onnx`;
    if (!(await Deno.stat(path).then(() => true, () => false))) continue;
    const session = await ort.InferenceSession.create(path, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    const y = (await session.run(feeds)).y!.data as Float32Array;
    if (reference === undefined) reference = y;
    const diff = y.reduce((m, v, i) => Math.max(m, Math.abs(v - reference![i]!)), 0);
    if (diff > 1e-4) throw new Error(`${variant}_${tag} differs from the Conv by ${diff}`);
    entries.push({ variant, session, times: [] as number[] });
  }
  for (let round = 0; round < 30; round++) {
    for (const e of entries) {
      const t = performance.now();
      await e.session.run(feeds);
      e.times.push(performance.now() - t);
    }
  }
  const medians = entries.map((e) => {
    const t = e.times.sort((a, b) => a - b);
    return `${e.variant} ${t[15]!.toFixed(2)}`;
  });
  console.log(
    `${tag} (channels, size, stride), median ms per batch of ${batch}: ${medians.join(", ")}`,
  );
}
