/**
 * Several WASM session pairs, each in its own worker with its own
 * onnxruntime-web instance, working on different batches at once.
 *
 * Why: onnxruntime-web's threads split each operator across a pool of web
 * workers and meet at a barrier after it, and its memory-bound kernels (Resize,
 * Concat, Transpose) run on one thread while the other waits; sopseg's graphs
 * have hundreds of small operators. In one `deno task bench` run (2026-12-02
 * 03:29, BENCHMARKS.md) one thread did 16.3 inst/s, one session with two
 * threads 26.7 (1.64x), two single-threaded sessions on alternate batches 29.8
 * (1.83x). The outputs are the same: every session runs the same WASM kernels
 * on the same inputs.
 *
 * @module
 */
import type { BatchPrediction, PromptBatch } from "./sopseg_model.ts";
import type { PoolReply, PoolRequest } from "./pool_worker.ts";

/**
 * The Web Worker constructor, kept at load time: onnxruntime-web's Node build
 * replaces `globalThis.Worker` with `worker_threads.Worker` when it starts its
 * WASM module, and a pool made after that (a process that already ran a
 * session) would otherwise start Node threads that never load.
 */
const WebWorker = globalThis.Worker;

interface Pending {
  /** A prediction, or nothing for an `open` request. */
  resolve(p: BatchPrediction | undefined): void;
  reject: (e: Error) => void;
}

interface Member {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
  closed?: () => void;
  failure?: Error;
}

/** A pool of `size` WASM session pairs of one model. */
export class SessionPool {
  /** Number of sessions (workers). */
  readonly size: number;
  /** WASM threads per session. */
  readonly threadsPerSession: number;
  #members: Member[];
  #nextId = 0;
  #closed = false;

  private constructor(members: Member[], threadsPerSession: number) {
    this.#members = members;
    this.size = members.length;
    this.threadsPerSession = threadsPerSession;
  }

  /**
   * Start `size` workers, each loading the model in `dir` on WASM with
   * `threadsPerSession` threads (and its small graphs with `smallGraphs`). Rejects (and stops every worker) if one fails.
   */
  static async open(
    dir: string,
    size: number,
    threadsPerSession: number,
    smallGraphs = false,
  ): Promise<SessionPool> {
    const members: Member[] = [];
    const loads: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const worker = new WebWorker(new URL("./pool_worker.ts", import.meta.url), {
        type: "module",
      });
      const member: Member = { worker, busy: 0, pending: new Map() };
      members.push(member);
      loads.push(
        new Promise<void>((resolve, reject) => {
          worker.onmessage = (e: MessageEvent<PoolReply>) => {
            const m = e.data;
            if (m.kind === "loaded") resolve();
            else if (m.kind === "error" && m.id === undefined) reject(new TypeError(m.message));
            else handle(member, m);
          };
          worker.onerror = (e: ErrorEvent) => {
            e.preventDefault();
            const err = new Error(`a model worker failed: ${e.message}`);
            member.failure = err;
            reject(err);
            for (const p of member.pending.values()) p.reject(err);
            member.pending.clear();
          };
        }),
      );
      const load: PoolRequest = { kind: "load", dir, threads: threadsPerSession, smallGraphs };
      worker.postMessage(load);
    }
    try {
      await Promise.all(loads);
    } catch (e) {
      for (const m of members) m.worker.terminate();
      throw e;
    }
    return new SessionPool(members, threadsPerSession);
  }

  /**
   * Run a batch on the least busy session. Batches may finish out of order.
   * `transfer`: move the batch's buffers to the worker (detaching them here)
   * instead of copying them.
   */
  predict(batch: PromptBatch, transfer = false): Promise<BatchPrediction> {
    if (this.#closed) return Promise.reject(new Error("the session pool is closed"));
    const alive = this.#members.filter((m) => !m.failure);
    if (alive.length === 0) {
      return Promise.reject(this.#members[0]?.failure ?? new Error("the session pool is closed"));
    }
    const member = alive.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.#nextId++;
    member.busy++;
    return new Promise<BatchPrediction>((resolve, reject) => {
      const fail = () => reject(new Error("a model worker answered a batch with nothing"));
      member.pending.set(id, { resolve: (p) => p ? resolve(p) : fail(), reject });
      const msg: PoolRequest = { kind: "predict", id, batch };
      // A shared buffer cannot be transferred (nor needs to be).
      const buffers = [batch.images.buffer, batch.coords.buffer, batch.labels.buffer]
        .concat(batch.classes ? [batch.classes.buffer] : [])
        .filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
      member.worker.postMessage(msg, transfer ? [...new Set(buffers)] : []);
    }).finally(() => member.busy--);
  }

  /** Open every graph set's sessions in every worker now (see `SopsegModel.openGraphSets`). */
  async openGraphSets(): Promise<void> {
    if (this.#closed) throw new Error("the session pool is closed");
    await Promise.all(this.#members.map((member) => {
      if (member.failure) return Promise.reject(member.failure);
      const id = this.#nextId++;
      return new Promise<void>((resolve, reject) => {
        member.pending.set(id, { resolve: () => resolve(), reject });
        const msg: PoolRequest = { kind: "open", id };
        member.worker.postMessage(msg);
      });
    }));
  }

  /**
   * Close every session and stop the workers (a worker that does not answer
   * within `graceMs` is stopped anyway).
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#members.map((m) => {
      if (m.failure) return Promise.resolve();
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        new Promise<void>((resolve) => {
          m.closed = resolve;
          const msg: PoolRequest = { kind: "close" };
          m.worker.postMessage(msg);
        }),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]).finally(() => clearTimeout(timer));
    }));
    for (const m of this.#members) {
      m.worker.terminate();
      for (const p of m.pending.values()) p.reject(new Error("the session pool was closed"));
      m.pending.clear();
    }
  }
}

function handle(member: Member, m: PoolReply): void {
  if (m.kind === "closed") {
    member.closed?.();
    return;
  }
  if (m.kind !== "result" && m.kind !== "error" && m.kind !== "opened") return;
  const p = m.id === undefined ? undefined : member.pending.get(m.id);
  if (!p || m.id === undefined) return;
  member.pending.delete(m.id);
  if (m.kind === "error") p.reject(new TypeError(m.message));
  else if (m.kind === "opened") p.resolve(undefined);
  else p.resolve({ maskLogits: m.maskLogits, iou: m.iou, timing: m.timing });
}
