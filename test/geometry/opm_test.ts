import { assert, assertClose, assertPointClose, seededRandom } from "../_assert.ts";
import { opmPoints } from "../../src/geometry/opm.ts";
import { type OrientedBox, orientedBoxFromCenter } from "../../src/geometry/oriented_box.ts";

/** Coordinates of a point along the box's width and height directions, from the centre. */
function local(box: OrientedBox, p: { x: number; y: number }): { u: number; v: number } {
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  const dx = p.x - box.cx, dy = p.y - box.cy;
  return { u: dx * cos + dy * sin, v: -dx * sin + dy * cos };
}

Deno.test("opmPoints() puts the points inside the box on its long axis", () => {
  const rand = seededRandom(21);
  for (let t = 0; t < 500; t++) {
    const box = orientedBoxFromCenter(rand() * 400, rand() * 400, {
      width: 0.5 + rand() * 40,
      height: 0.5 + rand() * 40,
      angle: (rand() - 0.5) * 2 * Math.PI,
    });
    const { p1, c, p2 } = opmPoints(box);
    assertPointClose(c, { x: box.cx, y: box.cy }, 0);
    const long = Math.max(box.width, box.height);
    for (const p of [p1, p2]) {
      const { u, v } = local(box, p);
      // On the long axis, a quarter of the long side from the centre.
      if (box.width > box.height) {
        assertClose(v, 0, 1e-9);
        assertClose(Math.abs(u), long / 4, 1e-9);
      } else {
        assertClose(u, 0, 1e-9);
        assertClose(Math.abs(v), long / 4, 1e-9);
      }
      assert.ok(Math.abs(u) <= box.width / 2 && Math.abs(v) <= box.height / 2, "inside the box");
    }
    // Symmetric about C, and P1 has the smaller x.
    assertPointClose({ x: (p1.x + p2.x) / 2, y: (p1.y + p2.y) / 2 }, c, 1e-9);
    assert.ok(p1.x <= p2.x + 1e-9);
  }
});

Deno.test("opmPoints() does not depend on how the same box is written", () => {
  const rand = seededRandom(22);
  for (let t = 0; t < 200; t++) {
    const w = 1 + rand() * 30, h = w * (1.1 + rand());
    const a = (rand() - 0.5) * Math.PI;
    const box = orientedBoxFromCenter(50, 60, { width: w, height: h, angle: a });
    const flipped = orientedBoxFromCenter(50, 60, { width: w, height: h, angle: a + Math.PI });
    const swapped = orientedBoxFromCenter(50, 60, { width: h, height: w, angle: a + Math.PI / 2 });
    const ref = opmPoints(box);
    for (const other of [flipped, swapped]) {
      const got = opmPoints(other);
      assertPointClose(got.p1, ref.p1, 1e-9);
      assertPointClose(got.p2, ref.p2, 1e-9);
    }
  }
});

Deno.test("opmPoints() uses the height direction for a square box", () => {
  const square = { cx: 10, cy: 10, width: 8, height: 8, angle: 0 };
  const { p1, p2 } = opmPoints(square);
  // Short sides = the width sides (top and bottom); points along y; x tie broken by y.
  assertPointClose(p1, { x: 10, y: 8 }, 1e-12);
  assertPointClose(p2, { x: 10, y: 12 }, 1e-12);
  // Within the 1e-6 relative tolerance the width sides still count as short.
  const almost = opmPoints({ cx: 10, cy: 10, width: 8 * (1 + 5e-7), height: 8, angle: 0 });
  assertPointClose(almost.p1, { x: 10, y: 8 }, 1e-12);
  // Past it, the longer width decides.
  const longer = opmPoints({ cx: 10, cy: 10, width: 8.01, height: 8, angle: 0 });
  assertPointClose(longer.p1, { x: 10 - 8.01 / 4, y: 10 }, 1e-12);
});

Deno.test("opmPoints() breaks an x tie by y for vertical boxes", () => {
  for (const angle of [0, -Math.PI / 2]) {
    const tall = angle === 0
      ? { cx: 5, cy: 5, width: 2, height: 12, angle }
      : { cx: 5, cy: 5, width: 12, height: 2, angle };
    const { p1, p2 } = opmPoints(tall);
    assertPointClose(p1, { x: 5, y: 2 }, 1e-12);
    assertPointClose(p2, { x: 5, y: 8 }, 1e-12);
  }
});
