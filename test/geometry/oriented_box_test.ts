import { assert, assertClose, assertPointClose, seededRandom } from "../_assert.ts";
import {
  boxCorners,
  enclosingHBox,
  type OrientedBox,
  orientedBoxFromCenter,
  orientedBoxFromCorners,
  type Point,
} from "../../src/geometry/oriented_box.ts";

const PI = Math.PI;

/** Corners as a set, order-free, for comparing boxes that describe the same rectangle. */
function sameRectangle(a: OrientedBox, b: OrientedBox, tol = 1e-9): void {
  const ca = boxCorners(a), cb = boxCorners(b);
  for (const p of ca) {
    assert.ok(
      cb.some((q) => Math.hypot(p.x - q.x, p.y - q.y) <= tol),
      `corner (${p.x}, ${p.y}) of ${JSON.stringify(a)} not in ${JSON.stringify(b)}`,
    );
  }
}

Deno.test("orientedBoxFromCenter() normalises the angle into [-pi/2, pi/2)", () => {
  const cases: [number, number][] = [
    [0, 0],
    [PI / 4, PI / 4],
    [(3 * PI) / 4, -PI / 4],
    [PI / 2, -PI / 2],
    [-PI / 2, -PI / 2],
    [PI, 0],
    [-PI, 0],
    [(5 * PI) / 2 + 0.1, -PI / 2 + 0.1],
  ];
  for (const [input, expected] of cases) {
    const box = orientedBoxFromCenter(1, 2, { width: 6, height: 3, angle: input });
    assertClose(box.angle, expected, 1e-12, `angle ${input}`);
    assert.equal(box.width, 6);
    assert.equal(box.height, 3);
  }
  const rand = seededRandom(1);
  for (let i = 0; i < 200; i++) {
    const angle = (rand() - 0.5) * 40;
    const raw = { cx: 5, cy: 7, width: 1 + rand() * 9, height: 1 + rand() * 9, angle };
    const box = orientedBoxFromCenter(raw.cx, raw.cy, raw);
    assert.ok(box.angle >= -PI / 2 && box.angle < PI / 2, `${box.angle} out of range`);
    sameRectangle(box, raw, 1e-9);
  }
});

Deno.test("orientedBoxFromCenter() reads degrees with the same direction as radians", () => {
  const deg = orientedBoxFromCenter(0, 0, {
    width: 4,
    height: 2,
    angle: 30,
    convention: "degrees",
  });
  const rad = orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: PI / 6 });
  assertClose(deg.angle, rad.angle, 1e-15);
  // The width side points from +x towards +y (down): its end is below the centre.
  const [, tr, br] = boxCorners(deg);
  const mid = { x: (tr.x + br.x) / 2, y: (tr.y + br.y) / 2 };
  assertPointClose(mid, { x: 2 * Math.cos(PI / 6), y: 2 * Math.sin(PI / 6) }, 1e-12);
});

Deno.test("orientedBoxFromCenter() checks the mmrotate angle ranges", () => {
  // oc: (0, pi/2] (mmrotate 0.x); pi/2 is the same box as -pi/2.
  const oc = orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: PI / 2, convention: "oc" });
  assertClose(oc.angle, -PI / 2, 1e-15);
  // and [-pi/2, 0) (mmrotate 1.x's regularize_boxes("oc")): the angle read as it is
  const oc1 = orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: -0.1, convention: "oc" });
  assert.equal(oc1.angle, -0.1);
  // le135: [-pi/4, 3pi/4); 0.7 pi is kept as the same box at -0.3 pi.
  const le135 = orientedBoxFromCenter(0, 0, {
    width: 4,
    height: 2,
    angle: 0.7 * PI,
    convention: "le135",
  });
  assertClose(le135.angle, -0.3 * PI, 1e-12);
  const le90 = orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: -1, convention: "le90" });
  assert.equal(le90.angle, -1);
  // Degrees passed as radians fail loudly.
  assert.throws(
    () => orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: 45, convention: "oc" }),
    {
      name: "RangeError",
      message:
        "Cannot build an oriented box: angle 45 is outside the oc range [-pi/2, 0) (mmrotate 1.x) or (0, pi/2] (0.x) (radians)",
    },
  );
  assert.throws(
    () => orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: 2, convention: "le90" }),
    /outside the le90 range \[-pi\/2, pi\/2\)/,
  );
  assert.throws(
    () => orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: -1, convention: "le135" }),
    /outside the le135 range/,
  );
  assert.throws(
    () => orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: -1.6, convention: "oc" }),
    /outside the oc range/,
  );
  // The ends are accepted within the tolerance.
  orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: PI / 2, convention: "le90" });
  orientedBoxFromCenter(0, 0, { width: 4, height: 2, angle: -PI / 4, convention: "le135" });
});

Deno.test("orientedBoxFromCenter() rejects bad input", () => {
  assert.throws(
    () => orientedBoxFromCenter(0, 0, { width: -1, height: 2 }),
    {
      name: "RangeError",
      message: "Cannot build an oriented box: sides must be finite and >= 0, got -1 x 2",
    },
  );
  assert.throws(() => orientedBoxFromCenter(NaN, 0, { width: 1, height: 2 }), /centre/);
  assert.throws(
    () => orientedBoxFromCenter(0, 0, { width: 1, height: 2, angle: Infinity }),
    /angle Infinity is not finite/,
  );
  assert.throws(
    () =>
      orientedBoxFromCenter(0, 0, {
        width: 1,
        height: 2,
        convention: "grad" as unknown as "radians",
      }),
    { name: "TypeError", message: /unknown angle convention "grad"/ },
  );
});

Deno.test("boxCorners() lists corners clockwise on screen starting top-left at angle 0", () => {
  const c = boxCorners({ cx: 10, cy: 20, width: 6, height: 2, angle: 0 });
  assert.deepEqual(c, [{ x: 7, y: 19 }, { x: 13, y: 19 }, { x: 13, y: 21 }, { x: 7, y: 21 }]);
  const turned = boxCorners({ cx: 0, cy: 0, width: 6, height: 2, angle: -PI / 2 });
  // The width side now points up (-y).
  assertPointClose(turned[1], { x: -1, y: -3 }, 1e-12);
});

/** A DOTA-like quad: corners of a rotated rectangle, from a given start, in a given winding. */
function quad(box: OrientedBox, start: number, reverse: boolean): Point[] {
  const c = boxCorners(box);
  const order = [0, 1, 2, 3].map((i) => (start + (reverse ? -i : i) + 4) % 4);
  return order.map((i) => c[i]!);
}

Deno.test("orientedBoxFromCorners() recovers rotated rectangles in both windings", () => {
  const rand = seededRandom(2);
  for (let t = 0; t < 200; t++) {
    const box = orientedBoxFromCenter(rand() * 500, rand() * 500, {
      width: 2 + rand() * 60,
      height: 2 + rand() * 60,
      angle: (rand() - 0.5) * 2 * PI,
    });
    for (const reverse of [false, true]) {
      const start = Math.floor(rand() * 4);
      const corners = quad(box, start, reverse);
      const got = orientedBoxFromCorners(corners);
      sameRectangle(got, box, 1e-7);
      assertClose(got.width * got.height, box.width * box.height, 1e-7 * box.width * box.height);
      // The width side is the one along the first edge.
      const first = Math.hypot(corners[1]!.x - corners[0]!.x, corners[1]!.y - corners[0]!.y);
      assertClose(got.width, first, 1e-7);
      assert.ok(got.angle >= -PI / 2 && got.angle < PI / 2);
    }
  }
});

Deno.test("orientedBoxFromCorners() reads an axis-aligned DOTA quad", () => {
  // DOTA: x1 y1 ... x4 y4 clockwise on screen from the top-left.
  const box = orientedBoxFromCorners([
    { x: 100, y: 50 },
    { x: 140, y: 50 },
    { x: 140, y: 60 },
    { x: 100, y: 60 },
  ]);
  assertClose(box.cx, 120, 1e-12);
  assertClose(box.cy, 55, 1e-12);
  assertClose(box.width, 40, 1e-12);
  assertClose(box.height, 10, 1e-12);
  assertClose(box.angle, 0, 1e-12);
  // Counter-clockwise on screen, starting at the bottom-left: the first edge is vertical.
  const ccw = orientedBoxFromCorners([
    { x: 100, y: 60 },
    { x: 100, y: 50 },
    { x: 140, y: 50 },
    { x: 140, y: 60 },
  ]);
  assertClose(ccw.width, 10, 1e-12);
  assertClose(ccw.height, 40, 1e-12);
  assertClose(ccw.angle, -PI / 2, 1e-12);
});

Deno.test("orientedBoxFromCorners() fits the minimum-area rectangle of a skewed quad", () => {
  const corners = [{ x: 0, y: 0 }, { x: 10, y: 1 }, { x: 11, y: 6 }, { x: -1, y: 5 }];
  const box = orientedBoxFromCorners(corners);
  // Every corner is inside (or on) the box.
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  for (const p of corners) {
    const dx = p.x - box.cx, dy = p.y - box.cy;
    assert.ok(Math.abs(dx * cos + dy * sin) <= box.width / 2 + 1e-9);
    assert.ok(Math.abs(-dx * sin + dy * cos) <= box.height / 2 + 1e-9);
  }
  // No axis-aligned or edge-aligned rectangle is smaller: brute force over hull edges.
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const a = corners[i]!, b = corners[(i + 1) % 4]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    const ux = (b.x - a.x) / len, uy = (b.y - a.y) / len;
    const us = corners.map((p) => p.x * ux + p.y * uy);
    const vs = corners.map((p) => -p.x * uy + p.y * ux);
    best = Math.min(
      best,
      (Math.max(...us) - Math.min(...us)) * (Math.max(...vs) - Math.min(...vs)),
    );
  }
  assertClose(box.width * box.height, best, 1e-9);
});

Deno.test("orientedBoxFromCorners() rejects degenerate quads", () => {
  const ok = [{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 4, y: 2 }, { x: 0, y: 2 }];
  assert.throws(() => orientedBoxFromCorners(ok.slice(0, 3)), {
    name: "RangeError",
    message: "Cannot build an oriented box from corners: expected 4 corners, got 3",
  });
  assert.throws(() => orientedBoxFromCorners([...ok.slice(0, 3), { x: NaN, y: 1 }]), {
    name: "RangeError",
    message: "Cannot build an oriented box from corners: corner 3 (NaN, 1) is not finite",
  });
  assert.throws(() => orientedBoxFromCorners([ok[0]!, ok[1]!, ok[1]!, ok[3]!]), {
    name: "RangeError",
    message: "Cannot build an oriented box from corners: corners 1 and 2 are the same point",
  });
  assert.throws(
    () => orientedBoxFromCorners([{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 3, y: 3 }, { x: 2, y: 2 }]),
    {
      name: "RangeError",
      message: "Cannot build an oriented box from corners: the corners are collinear (zero area)",
    },
  );
  // Three collinear corners still span an area: a triangle's rectangle.
  const tri = orientedBoxFromCorners([{ x: 0, y: 0 }, { x: 2, y: 0 }, { x: 4, y: 0 }, {
    x: 2,
    y: 3,
  }]);
  assertClose(tri.width * tri.height, 12, 1e-9);
});

Deno.test("enclosingHBox() matches the extent of the corners", () => {
  const rand = seededRandom(3);
  for (let t = 0; t < 200; t++) {
    const box = orientedBoxFromCenter(rand() * 100, rand() * 100, {
      width: rand() * 30,
      height: rand() * 30,
      angle: (rand() - 0.5) * PI,
    });
    const c = boxCorners(box);
    const h = enclosingHBox(box);
    assertClose(h.x0, Math.min(...c.map((p) => p.x)), 1e-9);
    assertClose(h.x1, Math.max(...c.map((p) => p.x)), 1e-9);
    assertClose(h.y0, Math.min(...c.map((p) => p.y)), 1e-9);
    assertClose(h.y1, Math.max(...c.map((p) => p.y)), 1e-9);
  }
});

Deno.test("orientedBoxFromCorners() breaks a tie of two equal-area rectangles the same way whatever the round-off", () => {
  // A DOTA quadrilateral (not a rectangle) with two minimum-area rectangles of equal area: the
  // same corners through a map transform and back (1e-7 px off) must not pick the other one.
  const corners = [[480, 245], [470, 246], [466, 205], [475, 203]];
  const given = orientedBoxFromCorners(corners.map(([x, y]) => ({ x: x!, y: y! })));
  // the first edge (480,245)->(470,246) is about -5.71 degrees modulo a quarter turn
  assertClose(given.angle * 180 / PI, -5.7106, 1e-3);
  for (const d of [1e-7, -1e-7, 1e-9]) {
    for (let k = 0; k < 4; k++) {
      const moved = orientedBoxFromCorners(
        corners.map(([x, y], i) => ({ x: x! + (i === k ? d : 0), y: y! - (i === k ? d : 0) })),
      );
      sameRectangle(moved, given, 1e-5);
    }
  }
});
