import assert from "node:assert/strict";
import { BlockCache } from "../../src/raster/block_cache.ts";
import { memoryByteSource, openFileByteSource } from "../../src/raster/byte_source.ts";
import { checkWindow } from "../../src/raster/check_window.ts";
import { RgbConverter } from "../../src/raster/rgb_converter.ts";
import { selectBands } from "../../src/raster/select_bands.ts";

Deno.test("RgbConverter.convertRun() stretches, clamps and marks nodata only where all bands are nodata", () => {
  const conv = new RgbConverter([
    { kind: "linear", low: -100, high: 100 },
    { kind: "linear", low: 0, high: 10 },
    { kind: "identity" },
  ], { nodata: -5 });
  const r = new Int16Array([-200, -5, 0, 100, -5]);
  const g = new Float32Array([-5, 5, 20, NaN, -5]);
  const b = new Uint8Array([1, 2, 3, 4, 251]);
  const out = new Uint8Array(5 * 3), valid = new Uint8Array(5);
  // b (8-bit) never equals -5, so no pixel is nodata here
  assert.equal(conv.convertRun([r, g, b], 0, null, out, valid, 0, 5), 0);
  assert.deepEqual([...out], [0, 0, 1, 121, 128, 2, 128, 255, 3, 255, 0, 4, 121, 0, 251]);
  const out2 = new Uint8Array(6), valid2 = new Uint8Array(2);
  const nd = new Float32Array([-5, 3]);
  const alpha = new Uint8Array([255, 0]);
  assert.equal(
    new RgbConverter([{ kind: "identity" }, { kind: "identity" }, { kind: "identity" }], {
      nodata: -5,
    })
      .convertRun([nd, nd, nd], 0, alpha, out2, valid2, 0, 2),
    2,
  );
  assert.deepEqual([...valid2], [0, 0]);
});

Deno.test("selectBands() defaults and validates", () => {
  assert.deepEqual(selectBands(undefined, { bandCount: 2, path: "p" }), [0, 0, 0]);
  assert.deepEqual(selectBands([1, 1, 2], { bandCount: 2, path: "p" }), [0, 0, 1]);
  assert.throws(() => selectBands([], { bandCount: 2, path: "p" }), RangeError);
  assert.throws(
    () => selectBands([1.5], { bandCount: 2, path: "p" }),
    /Cannot select band 1.5 of p/,
  );
});

Deno.test("checkWindow() accepts windows inside the image only", () => {
  checkWindow([0, 0, 0, 0], { width: 1, height: 1, path: "p" });
  checkWindow([0, 0, 1, 1], { width: 1, height: 1, path: "p" });
  assert.throws(() => checkWindow([1, 0, 0, 1], { width: 1, height: 1, path: "p" }), RangeError);
  assert.throws(() => checkWindow([0, 0, NaN, 1], { width: 1, height: 1, path: "p" }), TypeError);
});

Deno.test("BlockCache.get() evicts least recently used values beyond the byte budget", async () => {
  const cache = new BlockCache<string>(300);
  const loads: number[] = [];
  const get = (k: number) => cache.get(k, 100, () => (loads.push(k), Promise.resolve(`v${k}`)));
  await get(1);
  await get(2);
  await get(3);
  await get(1); // hit, now most recent
  await get(4); // evicts 2
  await get(2);
  assert.deepEqual(loads, [1, 2, 3, 4, 2]);
  assert.equal(cache.bytes, 300);
  // concurrent requests share one load; failures are not cached
  const [a, b] = await Promise.all([get(9), get(9)]);
  assert.equal(a, b);
  assert.equal(loads.filter((k) => k === 9).length, 1);
  await assert.rejects(cache.get(7, 10, () => Promise.reject(new Error("x"))));
  assert.equal(await cache.get(7, 10, () => Promise.resolve("ok")), "ok");
  // larger than the budget: returned, not kept
  await cache.get(8, 1000, () => Promise.resolve("big"));
  assert.ok(cache.bytes <= 300);
});

Deno.test("openFileByteSource() reads exact ranges, zero-fills past the end, serialises concurrent reads", async () => {
  const path = await Deno.makeTempFile();
  const bytes = new Uint8Array(70000).map((_, i) => (i * 7) & 255);
  await Deno.writeFile(path, bytes);
  const src = await openFileByteSource(path);
  try {
    assert.equal(src.size, 70000);
    const reads = await Promise.all(
      Array.from({ length: 50 }, (_, k) => src.read(k * 1399, 3000)),
    );
    reads.forEach((r, k) => {
      const want = new Uint8Array(3000);
      want.set(bytes.subarray(k * 1399, k * 1399 + 3000));
      assert.deepEqual(r, want);
    });
    assert.deepEqual(await src.read(69999, 3), new Uint8Array([bytes[69999]!, 0, 0]));
    assert.deepEqual(
      await memoryByteSource(bytes).read(69999, 2),
      new Uint8Array([bytes[69999]!, 0]),
    );
  } finally {
    await src.close();
    await Deno.remove(path);
  }
  await assert.rejects(src.read(0, 1), /Cannot read .*: the file is closed/);
});
