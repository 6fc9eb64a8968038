import assert from "node:assert/strict";
import { mulberry32, perturbBox, PROMPT_NOISE_PRESETS } from "../../src/eval/prompt_noise.ts";

Deno.test("mulberry32() gives the reference sequence and stays in [0, 1)", () => {
  // reference values of mulberry32(1), from the widely copied JavaScript version run in Node
  const r = mulberry32(1);
  const first = [r(), r(), r()];
  assert.deepEqual(first, [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  const g = mulberry32(99);
  for (let i = 0; i < 1000; i++) {
    const v = g();
    assert.ok(v >= 0 && v < 1);
  }
});

Deno.test("perturbBox() is seeded per key and bounded by its amplitudes", () => {
  const box = { cx: 100, cy: 80, width: 40, height: 10, angle: 0.3 };
  const opts = { shift: 0.1, scale: 0.2, angle: 10, seed: 3 };
  assert.deepEqual(perturbBox(box, 11, opts), perturbBox(box, 11, opts));
  assert.notDeepEqual(perturbBox(box, 11, opts), perturbBox(box, 12, opts));
  assert.notDeepEqual(perturbBox(box, 11, opts), perturbBox(box, 11, { ...opts, seed: 4 }));
  for (let key = 0; key < 200; key++) {
    const b = perturbBox(box, key, opts);
    // the shift is along the box axes: project back onto them
    const dx = b.cx - box.cx, dy = b.cy - box.cy;
    const c = Math.cos(box.angle), s = Math.sin(box.angle);
    assert.ok(Math.abs(dx * c + dy * s) <= 0.1 * 40 + 1e-9);
    assert.ok(Math.abs(-dx * s + dy * c) <= 0.1 * 10 + 1e-9);
    assert.ok(b.width >= 32 - 1e-9 && b.width <= 48 + 1e-9);
    assert.ok(b.height >= 8 - 1e-9 && b.height <= 12 + 1e-9);
    assert.ok(Math.abs(b.angle - box.angle) <= (10 * Math.PI) / 180 + 1e-9);
  }
});

Deno.test("perturbBox() keeps the angle in [-pi/2, pi/2)", () => {
  const box = { cx: 0, cy: 0, width: 10, height: 5, angle: -Math.PI / 2 };
  for (let key = 0; key < 100; key++) {
    const a = perturbBox(box, key, { angle: 20 }).angle;
    assert.ok(a >= -Math.PI / 2 && a < Math.PI / 2, String(a));
  }
});

Deno.test("perturbBox() rejects negative amplitudes and scale >= 1", () => {
  const box = { cx: 0, cy: 0, width: 10, height: 5, angle: 0 };
  assert.throws(() => perturbBox(box, 1, { shift: -1 }), RangeError);
  assert.throws(() => perturbBox(box, 1, { scale: 1 }), RangeError);
});

Deno.test("perturbBox() offset presets move every side by half a pixel", () => {
  const box = { cx: 10, cy: 20, width: 8, height: 3, angle: 0.3 };
  assert.deepEqual(perturbBox(box, 1, PROMPT_NOISE_PRESETS.tight1), {
    ...box,
    width: 7,
    height: 2,
  });
  assert.deepEqual(perturbBox(box, 1, PROMPT_NOISE_PRESETS.loose1), {
    ...box,
    width: 9,
    height: 4,
  });
});

Deno.test("perturbBox() gaussian noise scales with the long side and has heavier tails", () => {
  const box = { cx: 100, cy: 100, width: 100, height: 10, angle: 0 };
  const heavy = PROMPT_NOISE_PRESETS.heavy!;
  const dys: number[] = [];
  for (let key = 0; key < 4000; key++) dys.push(perturbBox(box, key, heavy).cy - box.cy);
  const sd = Math.sqrt(dys.reduce((a, d) => a + d * d, 0) / dys.length);
  // sigma 0.08 x the long side (100 px) across the short axis: 8 px, within sampling error
  assert.ok(Math.abs(sd - 8) < 0.5, `sd ${sd}`);
  assert.ok(dys.some((d) => Math.abs(d) > 3 * 8), "a normal draws past 3 sigma sometimes");
});

Deno.test("perturbBox() corners noise refits a rectangle around moved corners", () => {
  const box = { cx: 50, cy: 50, width: 40, height: 10, angle: 0 };
  const a = perturbBox(box, 3, PROMPT_NOISE_PRESETS.corners);
  assert.deepEqual(a, perturbBox(box, 3, PROMPT_NOISE_PRESETS.corners));
  assert.notDeepEqual(a, box);
  assert.ok(Math.abs(a.cx - 50) < 8 && Math.abs(a.cy - 50) < 8);
  assert.deepEqual(perturbBox(box, 3, { kind: "corners", corner: 0 }), box);
});
