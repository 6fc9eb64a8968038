import { assert, assertClose, seededRandom } from "../_assert.ts";
import { ramCrop, ramSide } from "../../src/geometry/ram.ts";

const K = 960 / 992;

Deno.test("ramSide() follows the piecewise law with the default parameters", () => {
  assert.equal(ramSide(8), 16);
  assertClose(ramSide(31.9), 63.8, 1e-12);
  assertClose(ramSide(32), 64, 1e-12);
  assertClose(ramSide(100), K * 100 + (2 - K) * 32, 1e-12);
  assertClose(ramSide(100), 128768 / 992, 1e-12);
  assertClose(ramSide(1024), 1024, 1e-9);
  // Past sMax the law would cut the object (1968.5...); the object size wins.
  assertClose(K * 2000 + (2 - K) * 32, 1952768 / 992, 1e-9);
  assert.equal(ramSide(2000), 2000);
});

Deno.test("ramSide() is continuous at m and reaches sMax at d = sMax", () => {
  for (const [m, k0, sMax] of [[32, 2, 1024], [16, 3, 512], [50, 1.5, 2000]] as const) {
    const below = ramSide(m - 1e-9, { m, k0, sMax });
    assertClose(below, ramSide(m, { m, k0, sMax }), 1e-6);
    assertClose(ramSide(m, { m, k0, sMax }), k0 * m, 1e-9);
    assertClose(ramSide(sMax, { m, k0, sMax }), sMax, 1e-9);
  }
});

Deno.test("ramSide() keeps S >= d past sMax and S >= sMin", () => {
  const rand = seededRandom(31);
  let last = 0;
  for (let i = 0; i <= 2000; i++) {
    const d = i * 2.5;
    const s = ramSide(d);
    assert.ok(s >= d, `S(${d}) = ${s} < d`);
    assert.ok(s >= 8);
    assert.ok(s >= last - 1e-9, "non-decreasing");
    last = s;
  }
  for (let t = 0; t < 100; t++) {
    const d = 1024 + rand() * 1e5;
    assert.equal(ramSide(d), d);
  }
  assert.equal(ramSide(0), 8);
  assert.equal(ramSide(3.9), 8);
  assert.equal(ramSide(4.5), 9);
  assert.equal(ramSide(1, { sMin: 0 }), 2);
});

Deno.test("ramSide() rejects bad input", () => {
  assert.throws(() => ramSide(-1), {
    name: "RangeError",
    message: "Cannot compute the RAM crop side: object size -1 is not finite and >= 0",
  });
  assert.throws(() => ramSide(NaN), /object size NaN/);
  assert.throws(() => ramSide(10, { m: 32, sMax: 16 }), /need m > 0, k0 > 0, finite sMax > m/);
});

Deno.test("ramCrop() centres the object by default", () => {
  const rand = seededRandom(32);
  for (let t = 0; t < 200; t++) {
    const x0 = rand() * 500, y0 = rand() * 500, w = rand() * 80, h = rand() * 80;
    const crop = ramCrop({ x0, y0, x1: x0 + w, y1: y0 + h });
    assertClose(crop.size, ramSide(Math.max(w, h)), 1e-9);
    assertClose(crop.x0 + crop.size / 2, x0 + w / 2, 1e-9);
    assertClose(crop.y0 + crop.size / 2, y0 + h / 2, 1e-9);
  }
});

Deno.test("ramCrop() places the object by the anchors", () => {
  const hbox = { x0: 100, y0: 200, x1: 110, y1: 204 }; // w 10, h 4, S 20
  const crop = ramCrop(hbox, { ax: 0.3, ay: 0.7 });
  assert.deepEqual(crop, { x0: 100 - 0.3 * 10, y0: 200 - 0.7 * 16, size: 20 });
  // Anchors in [0, 1] keep the object inside the crop.
  for (const ax of [0, 0.25, 1]) {
    const c = ramCrop(hbox, { ax, ay: 1 - ax });
    assert.ok(c.x0 <= hbox.x0 && c.x0 + c.size >= hbox.x1);
    assert.ok(c.y0 <= hbox.y0 && c.y0 + c.size >= hbox.y1);
  }
  assert.deepEqual(
    ramCrop(hbox, { m: 8, k0: 2, sMax: 64 }).size,
    ramSide(10, { m: 8, k0: 2, sMax: 64 }),
  );
});

Deno.test("ramCrop() rejects inverted boxes", () => {
  assert.throws(() => ramCrop({ x0: 10, y0: 0, x1: 5, y1: 3 }), {
    name: "RangeError",
    message: "Cannot compute a RAM crop: box [10, 0, 5, 3] is not finite with x1 >= x0, y1 >= y0",
  });
});
