/**
 * One WASM session pair in a worker, for {@linkcode SessionPool}: loads the
 * model with its own onnxruntime-web instance and answers `predict` messages.
 *
 * Messages in: `{ kind: "load", dir, threads, smallGraphs }`, `{ kind: "predict", id, batch }`,
 * `{ kind: "open", id }` (every graph set's sessions now), `{ kind: "close" }`. Out:
 * `{ kind: "loaded" }`, `{ kind: "result", id, ... }`, `{ kind: "opened", id }`,
 * `{ kind: "error", id?, message }`, `{ kind: "closed" }`.
 *
 * @module
 */
import { type PromptBatch, SopsegModel } from "./sopseg_model.ts";

/** A message to the worker. */
export type PoolRequest =
  | { kind: "load"; dir: string; threads: number; smallGraphs: boolean }
  | { kind: "predict"; id: number; batch: PromptBatch }
  | { kind: "open"; id: number }
  | { kind: "close" };

/** A message from the worker. */
export type PoolReply =
  | { kind: "loaded" }
  | {
    kind: "result";
    id: number;
    maskLogits: Float32Array;
    iou: Float32Array;
    timing: { encoder: number; decoder: number };
  }
  | { kind: "opened"; id: number }
  | { kind: "error"; id?: number; message: string }
  | { kind: "closed" };

// `globalThis`, not `self`: under `deno test` a worker's `self` is not defined.
const scope = globalThis as unknown as {
  postMessage(message: PoolReply, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<PoolRequest>) => void) | null;
  close(): void;
};
let model: SopsegModel | undefined;
const reply = (m: PoolReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

scope.onmessage = async (e: MessageEvent<PoolRequest>) => {
  const m = e.data;
  if (m.kind === "load") {
    try {
      model = await SopsegModel.load(m.dir, {
        backend: "wasm",
        threads: m.threads,
        hashFiles: false,
        smallGraphs: m.smallGraphs,
      });
      reply({ kind: "loaded" });
    } catch (err) {
      reply({ kind: "error", message: (err as Error).message });
    }
  } else if (m.kind === "predict") {
    try {
      const out = await model!.predict(m.batch);
      // Hand the output buffers over instead of copying them (a shared buffer cannot be).
      const buffers = new Set(
        [out.maskLogits.buffer, out.iou.buffer].filter((b) => b instanceof ArrayBuffer),
      );
      reply(
        { kind: "result", id: m.id, maskLogits: out.maskLogits, iou: out.iou, timing: out.timing },
        [...buffers],
      );
    } catch (err) {
      reply({ kind: "error", id: m.id, message: (err as Error).message });
    }
  } else if (m.kind === "open") {
    try {
      await model!.openGraphSets();
      reply({ kind: "opened", id: m.id });
    } catch (err) {
      reply({ kind: "error", id: m.id, message: (err as Error).message });
    }
  } else if (m.kind === "close") {
    await model?.close();
    reply({ kind: "closed" });
    scope.close();
  }
};
