import { assert, seededRandom } from "../_assert.ts";
import { pasteBack } from "../../src/masks/paste_back.ts";
import type { MaskWindow } from "../../src/masks/mask_window.ts";

const N = 256;

/** Logits from a function of the model-frame pixel centre. */
function field(f: (u: number, v: number) => number, n = N): Float32Array {
  const out = new Float32Array(n * n);
  for (let v = 0; v < n; v++) for (let u = 0; u < n; u++) out[v * n + u] = f(u + 0.5, v + 0.5);
  return out;
}

function at(mask: MaskWindow, i: number, j: number): number {
  return mask.data[(j - mask.y0) * mask.width + (i - mask.x0)]!;
}

Deno.test("pasteBack() covers the pixels whose centre lies in the crop", () => {
  const ones = new Float32Array(N * N).fill(1);
  const m = pasteBack(ones, { x0: 10.3, y0: 20.9, size: 5.5 }, {
    imageWidth: 100,
    imageHeight: 100,
  });
  // Centres 10.5 .. 15.5 are >= 10.3 and < 15.8; rows 21.5 .. 25.5 are >= 20.9 and < 26.4.
  assert.deepEqual([m.x0, m.y0, m.width, m.height], [10, 21, 6, 5]);
  assert.ok(m.data.every((v) => v === 1));
  // Clipped to the image.
  const edge = pasteBack(ones, { x0: -3, y0: 95, size: 8 }, { imageWidth: 100, imageHeight: 100 });
  assert.deepEqual([edge.x0, edge.y0, edge.width, edge.height], [0, 95, 5, 5]);
  const outside = pasteBack(ones, { x0: 200, y0: 0, size: 8 }, {
    imageWidth: 100,
    imageHeight: 100,
  });
  assert.equal(outside.width * outside.height, 0);
  assert.equal(outside.data.length, 0);
});

Deno.test("pasteBack() reproduces the logits exactly at unit scale", () => {
  const rand = seededRandom(81);
  const logits = new Float32Array(N * N).map(() => rand() - 0.5);
  const m = pasteBack(logits, { x0: 7, y0: 3, size: N }, { imageWidth: 400, imageHeight: 300 });
  assert.deepEqual([m.x0, m.y0, m.width, m.height], [7, 3, N, N]);
  for (let k = 0; k < N * N; k++) assert.equal(m.data[k], logits[k]! > 0 ? 1 : 0);
});

Deno.test("pasteBack() splits a half-plane field at the crop's middle", () => {
  // Logit = model x - 128, linear: bilinear sampling reproduces it exactly.
  const logits = field((u) => u - 128);
  for (const crop of [{ x0: 50.25, y0: 40.5, size: 37.3 }, { x0: 0, y0: 0, size: 1000 }]) {
    const m = pasteBack(logits, crop, { imageWidth: 2000, imageHeight: 2000 });
    for (let j = m.y0; j < m.y0 + m.height; j++) {
      for (let i = m.x0; i < m.x0 + m.width; i++) {
        const want = i + 0.5 > crop.x0 + crop.size / 2 ? 1 : 0;
        assert.equal(at(m, i, j), want, `pixel (${i}, ${j})`);
      }
    }
  }
});

Deno.test("pasteBack() turns a disk-shaped logit field into the disk", () => {
  // Logit = R^2 - |p - c|^2 in model units. Bilinear sampling of this concave field
  // underestimates by at most 0.5, so pixels with d^2 < R^2 - 0.5 are in and d^2 >= R^2 out.
  const R = 60, cu = 131.2, cv = 120.7;
  const logits = field((u, v) => R * R - ((u - cu) ** 2 + (v - cv) ** 2));
  const crop = { x0: 1000.4, y0: 500.8, size: 183.1 };
  const m = pasteBack(logits, crop, { imageWidth: 4000, imageHeight: 3000 });
  const s = N / crop.size;
  let area = 0;
  for (let j = m.y0; j < m.y0 + m.height; j++) {
    for (let i = m.x0; i < m.x0 + m.width; i++) {
      const du = (i + 0.5 - crop.x0) * s - cu, dv = (j + 0.5 - crop.y0) * s - cv;
      const d2 = du * du + dv * dv;
      const v = at(m, i, j);
      area += v;
      if (d2 < R * R - 0.5) assert.equal(v, 1, `inside pixel (${i}, ${j})`);
      if (d2 >= R * R) assert.equal(v, 0, `outside pixel (${i}, ${j})`);
    }
  }
  const r = R / s;
  assert.ok(Math.abs(area - Math.PI * r * r) < 2 * Math.PI * r, `area ${area}`);
});

Deno.test("pasteBack() clamps samples to the border of the logit map", () => {
  // Only the outermost model column is positive: pixels whose centre maps left of
  // model x = 0.5 read it unblended.
  const logits = field((u) => (u < 1 ? 1 : -1));
  const m = pasteBack(logits, { x0: 0, y0: 0, size: 1024 }, {
    imageWidth: 1024,
    imageHeight: 1024,
  });
  // Pixel centres i + 0.5 map to model x (i + 0.5) / 4; x <= 0.5 for i <= 1; pixel 2 blends
  // 0.875 * 1 + 0.125 * (-1) > 0; pixel 3 blends 0.625 - 0.375 > 0; pixel 4: 0.375 - 0.625 < 0.
  for (let i = 0; i < 6; i++) assert.equal(at(m, i, 500), i <= 3 ? 1 : 0, `column ${i}`);
});

Deno.test("pasteBack() honours inputSize and threshold, and rejects bad shapes", () => {
  const logits = Float32Array.of(0.2, 0.6, 0.6, 0.2);
  const m = pasteBack(logits, { x0: 0, y0: 0, size: 2 }, {
    inputSize: 2,
    imageWidth: 2,
    imageHeight: 2,
    threshold: 0.5,
  });
  assert.deepEqual(Array.from(m.data), [0, 1, 1, 0]);
  assert.throws(
    () =>
      pasteBack(new Float32Array(10), { x0: 0, y0: 0, size: 4 }, { imageWidth: 4, imageHeight: 4 }),
    {
      name: "RangeError",
      message: "Cannot paste logits back: got 10 logits, expected 256 x 256 = 65536",
    },
  );
  assert.throws(
    () =>
      pasteBack(logits, { x0: 0, y0: 0, size: 0 }, { inputSize: 2, imageWidth: 4, imageHeight: 4 }),
    /crop \(0, 0, 0\) is not finite with size > 0/,
  );
});
