import assert from "node:assert/strict";
import { checkBatch, SopsegModel } from "../../src/model/sopseg_model.ts";

const LITE = new URL("../../models/sopseg-lite", import.meta.url).pathname;

Deno.test("two single-threaded sessions in workers give exactly one session's outputs", async () => {
  const single = await SopsegModel.load(LITE, { backend: "wasm", threads: 1 });
  const pool = await SopsegModel.load(LITE, { backend: "wasm", threads: 2, sessions: 2 });
  try {
    assert.equal(single.concurrency, 1);
    assert.equal(pool.concurrency, 2);
    assert.match(pool.backendReason, /2 sessions x 1 thread/);
    // Different batches at once, on both sessions; each answer is its own batch's.
    const batches = [3, 1, 2, 4].map((size) => checkBatch(pool.manifest, size));
    const pooled = await Promise.all(batches.map((b) => pool.predict(b)));
    for (const [i, b] of batches.entries()) {
      const ref = await single.predict(b);
      assert.deepEqual(pooled[i]!.maskLogits, ref.maskLogits, `batch ${i}: mask logits`);
      assert.deepEqual(pooled[i]!.iou, ref.iou, `batch ${i}: iou`);
      assert.ok(pooled[i]!.timing.encoder > 0 && pooled[i]!.timing.decoder > 0);
    }
  } finally {
    await single.close();
    await pool.close();
  }
});

Deno.test("a bad batch fails only its own call; the pool keeps working", async () => {
  const pool = await SopsegModel.load(LITE, { backend: "wasm", threads: 2, sessions: 2 });
  try {
    const good = checkBatch(pool.manifest, 2);
    // Claims 2 items, carries the image data of one: the graph rejects the shape.
    const bad = { ...good, images: good.images.subarray(0, good.images.length / 2 - 1) };
    const [a, b, c] = await Promise.allSettled([
      pool.predict(good),
      pool.predict(bad),
      pool.predict(good),
    ]);
    assert.equal(a.status, "fulfilled");
    assert.equal(b.status, "rejected");
    assert.match(String((b as PromiseRejectedResult).reason), /does not match data length/);
    assert.equal(c.status, "fulfilled");
    const again = await pool.predict(good);
    assert.equal(again.iou.length, 2);
  } finally {
    await pool.close();
  }
});

Deno.test("a pool names the model directory it cannot load", async () => {
  await assert.rejects(
    () => SopsegModel.load(`${LITE}/nope`, { backend: "wasm", threads: 2, sessions: 2 }),
    /Cannot load model .*nope/,
  );
});

Deno.test("closing a pool finishes the batch in flight, then refuses new ones", async () => {
  const pool = await SopsegModel.load(LITE, { backend: "wasm", threads: 2, sessions: 2 });
  const busy = pool.predict(checkBatch(pool.manifest, 8));
  await pool.close(); // the worker reads the close message after the batch
  assert.equal((await busy).iou.length, 8);
  await assert.rejects(() => pool.predict(checkBatch(pool.manifest, 1)), /closed/);
  await pool.close(); // twice is harmless
});
