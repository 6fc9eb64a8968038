import { assert, assertClose, seededRandom } from "../_assert.ts";
import { pixelToModel } from "../../src/geometry/frames.ts";
import { opmPoints } from "../../src/geometry/opm.ts";
import { enclosingHBox, orientedBoxFromCenter } from "../../src/geometry/oriented_box.ts";
import { promptTokens } from "../../src/geometry/prompt.ts";
import { ramCrop } from "../../src/geometry/ram.ts";

Deno.test("promptTokens() builds the five OPM tokens in the model frame", () => {
  const rand = seededRandom(51);
  for (let t = 0; t < 100; t++) {
    const box = orientedBoxFromCenter(rand() * 500, rand() * 500, {
      width: 2 + rand() * 60,
      height: 2 + rand() * 60,
      angle: (rand() - 0.5) * Math.PI,
    });
    const h = enclosingHBox(box);
    const crop = ramCrop(h);
    const { coords, labels } = promptTokens(box, crop);
    assert.ok(coords instanceof Float32Array && coords.length === 10);
    assert.ok(labels instanceof Float32Array && labels.length === 5);
    assert.deepEqual(Array.from(labels), [1, 1, 1, 2, 3]);
    const { p1, c, p2 } = opmPoints(box);
    const want = [p1, c, p2, { x: h.x0, y: h.y0 }, { x: h.x1, y: h.y1 }].map((p) =>
      pixelToModel(p, crop)
    );
    want.forEach((p, i) => {
      assertClose(coords[2 * i]!, p.x, 1e-4);
      assertClose(coords[2 * i + 1]!, p.y, 1e-4);
    });
    // A centred RAM crop puts the object's centre at the middle of the input.
    assertClose(coords[2]!, 128, 1e-3);
    assertClose(coords[3]!, 128, 1e-3);
  }
});

Deno.test("promptTokens() marks missing tokens with -1 at (0, 0)", () => {
  const box = { cx: 50, cy: 50, width: 20, height: 6, angle: 0.3 };
  const crop = ramCrop(enclosingHBox(box));
  const full = promptTokens(box, crop);
  const boxOnly = promptTokens(box, crop, { mode: "box" });
  assert.deepEqual(Array.from(boxOnly.labels), [-1, -1, -1, 2, 3]);
  assert.deepEqual(Array.from(boxOnly.coords.slice(0, 6)), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(boxOnly.coords.slice(6), full.coords.slice(6));
  const points = promptTokens(box, crop, { mode: "points" });
  assert.deepEqual(Array.from(points.labels), [1, 1, 1, -1, -1]);
  assert.deepEqual(Array.from(points.coords.slice(6)), [0, 0, 0, 0]);
  assert.deepEqual(points.coords.slice(0, 6), full.coords.slice(0, 6));
});

Deno.test("promptTokens() honours inputSize and rejects unknown modes", () => {
  const box = { cx: 8, cy: 8, width: 8, height: 4, angle: 0 };
  const crop = { x0: 0, y0: 0, size: 16 };
  const { coords } = promptTokens(box, crop, { inputSize: 32 });
  assert.deepEqual(Array.from(coords), [12, 16, 16, 16, 20, 16, 8, 12, 24, 20]);
  assert.throws(() => promptTokens(box, crop, { mode: "mask" as unknown as "opm" }), {
    name: "TypeError",
    message: 'Cannot build prompt tokens: unknown mode "mask", expected one of opm, box, points',
  });
});
