/**
 * The WebGPU checks, run in a child process by webgpu_test.ts: Deno's WebGPU
 * (wgpu on llvmpipe here) has crashed once at process exit ("double free")
 * after every test had passed, so its work is kept out of the test runner's
 * process. Prints one JSON line with the results.
 */
import { checkBatch, SopsegModel } from "../../src/model/sopseg_model.ts";
import { probeWebGpu } from "../../src/model/ort_adapter.ts";
import { compareOutputs } from "../../src/model/parity.ts";

const root = new URL("../..", import.meta.url).pathname;
const gpu = await probeWebGpu();
const out: Record<string, unknown> = { gpu };
const plain = await SopsegModel.load(`${root}test/testdata/attention_probe`, {
  backend: "auto",
  threads: 1,
});
out.plainAuto = { backend: plain.backend, reason: plain.backendReason };
await plain.close();
// One batch of work: auto goes to WASM without asking for an adapter, even one it may use.
const oneNotes: string[] = [];
const one = await SopsegModel.load(`${root}test/testdata/attention_probe`, {
  backend: "auto",
  threads: 1,
  allowSoftwareWebGpu: true,
  batches: 1,
  onLog: (m) => oneNotes.push(m),
});
out.oneBatch = { backend: one.backend, reason: one.backendReason, notes: oneNotes };
await one.close();
if (gpu.available) {
  const notes: string[] = [];
  const probe = await SopsegModel.load(`${root}test/testdata/attention_probe`, {
    backend: "auto",
    threads: 1,
    allowSoftwareWebGpu: true,
    onLog: (m) => notes.push(m),
  });
  out.probe = { backend: probe.backend, reason: probe.backendReason, parity: probe.parity, notes };
  await probe.close();
  // The same fallback with two sessions asked for: the WASM model it falls back to is the
  // pool of two single-threaded sessions, not one pair.
  const pooled = await SopsegModel.load(`${root}test/testdata/attention_probe`, {
    backend: "auto",
    threads: 2,
    sessions: 2,
    allowSoftwareWebGpu: true,
  });
  out.pooled = {
    backend: pooled.backend,
    reason: pooled.backendReason,
    concurrency: pooled.concurrency,
    parityOk: pooled.parity?.ok ?? null,
  };
  await pooled.close();
  const lite = `${root}models/sopseg-lite`;
  // The shipped model passes the self-check; then auto times both backends and runs the faster.
  const raceNotes: string[] = [];
  const race = await SopsegModel.load(lite, {
    backend: "auto",
    threads: 1,
    allowSoftwareWebGpu: true,
    onLog: (m) => raceNotes.push(m),
  });
  out.race = {
    backend: race.backend,
    reason: race.backendReason,
    parityOk: race.parity?.ok ?? null,
    notes: raceNotes,
  };
  await race.close();
  const wasm = await SopsegModel.load(lite, { backend: "wasm", threads: 1 });
  const webgpu = await SopsegModel.load(lite, { backend: "webgpu" });
  const batch = checkBatch(wasm.manifest, 2);
  const a = await wasm.predict(batch);
  const b = await webgpu.predict(batch);
  out.lite = compareOutputs(
    { mask: { data: a.maskLogits, dims: [2] }, iou: { data: a.iou, dims: [2] } },
    { mask: { data: b.maskLogits, dims: [2] }, iou: { data: b.iou, dims: [2] } },
  );
  await wasm.close();
  await webgpu.close();
}
console.log(JSON.stringify(out));
