import { assert, assertClose, assertPointClose, seededRandom } from "../_assert.ts";
import { modelToPixel, pixelToModel } from "../../src/geometry/frames.ts";

Deno.test("pixelToModel() and modelToPixel() are inverse on random crops", () => {
  const rand = seededRandom(41);
  for (let t = 0; t < 500; t++) {
    const crop = { x0: (rand() - 0.3) * 1000, y0: (rand() - 0.3) * 1000, size: 8 + rand() * 1500 };
    const inputSize = rand() < 0.5 ? 256 : 128;
    const p = { x: crop.x0 + (rand() - 0.2) * crop.size, y: crop.y0 + (rand() - 0.2) * crop.size };
    const m = pixelToModel(p, crop, { inputSize });
    assertPointClose(modelToPixel(m, crop, { inputSize }), p, 1e-9);
    const q = { x: rand() * inputSize, y: rand() * inputSize };
    assertPointClose(
      pixelToModel(modelToPixel(q, crop, { inputSize }), crop, { inputSize }),
      q,
      1e-9,
    );
  }
});

Deno.test("pixelToModel() maps crop corners to model corners without a half-pixel shift", () => {
  const crop = { x0: 10.25, y0: -3.5, size: 12.8 };
  assertPointClose(pixelToModel({ x: 10.25, y: -3.5 }, crop), { x: 0, y: 0 }, 1e-12);
  assertPointClose(pixelToModel({ x: 23.05, y: 9.3 }, crop), { x: 256, y: 256 }, 1e-9);
  // CONTRACT: model pixel (u, v) samples the pixel-frame point (x0, y0) + (u + 0.5) * size / 256.
  const u = 17, v = 200;
  const p = modelToPixel({ x: u + 0.5, y: v + 0.5 }, crop);
  assertClose(p.x, 10.25 + (u + 0.5) * 12.8 / 256, 1e-12);
  assertClose(p.y, -3.5 + (v + 0.5) * 12.8 / 256, 1e-12);
});

Deno.test("pixelToModel() honours inputSize and rejects empty crops", () => {
  assert.deepEqual(pixelToModel({ x: 8, y: 4 }, { x0: 0, y0: 0, size: 16 }, { inputSize: 64 }), {
    x: 32,
    y: 16,
  });
  assert.throws(() => pixelToModel({ x: 0, y: 0 }, { x0: 0, y0: 0, size: 0 }), {
    name: "RangeError",
    message: "Cannot map a pixel point to the model frame: crop size 0 is not finite and > 0",
  });
  assert.throws(
    () => modelToPixel({ x: 0, y: 0 }, { x0: 0, y0: 0, size: 4 }, { inputSize: -1 }),
    /input size -1/,
  );
});
