import assert from "node:assert/strict";
import { PercentileSampler } from "../../src/raster/percentile_sampler.ts";
import { percentile } from "./_fixtures.ts";

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

Deno.test("PercentileSampler.range() matches numpy inverted_cdf for integer histograms", () => {
  const rnd = lcg(7);
  for (
    const [Ctor, lo, hi] of [[Uint16Array, 0, 65535], [Int16Array, -32768, 32767], [
      Uint8Array,
      0,
      255,
    ]] as const
  ) {
    const values = new Ctor(5003);
    for (let i = 0; i < values.length; i++) values[i] = Math.floor(lo + rnd() * (hi - lo + 1));
    const nodata = values[17]!;
    const s = new PercentileSampler({ nodata });
    s.add(values.subarray(0, 2000));
    s.add(values.subarray(2000));
    for (const [p, q] of [[2, 98], [0, 100], [25, 75], [0.1, 99.9]]) {
      assert.deepEqual(s.range(p!, q!), [
        percentile(values, p!, nodata),
        percentile(values, q!, nodata),
      ]);
    }
    assert.equal(s.count, values.filter((v) => v !== nodata).length);
  }
});

Deno.test("PercentileSampler.range() matches numpy inverted_cdf for floats, NaN and nodata excluded", () => {
  const rnd = lcg(3);
  const values = new Float32Array(10007);
  for (let i = 0; i < values.length; i++) values[i] = (rnd() - 0.3) * 1e3;
  values[5] = NaN;
  values[6] = -9999;
  values[7] = -9999;
  const s = new PercentileSampler({ nodata: -9999 });
  s.add(values);
  assert.equal(s.count, values.length - 3);
  assert.deepEqual(s.range(2, 98), [percentile(values, 2, -9999), percentile(values, 98, -9999)]);
});

Deno.test("PercentileSampler.add() keeps every stride-th value and range() is null when empty", () => {
  const s = new PercentileSampler();
  assert.equal(s.range(2, 98), null);
  s.add(new Uint16Array([1, 100, 2, 100, 3, 100]), 2);
  assert.deepEqual(s.range(0, 100), [1, 3]);
  const z = new PercentileSampler({ nodata: 0 });
  z.add(new Uint16Array([0, 0]));
  assert.equal(z.range(2, 98), null);
});
