import { assert, assertClose, seededRandom } from "../_assert.ts";
import { minAreaRect } from "../../src/geometry/min_area_rect.ts";
import type { OrientedBox, Point } from "../../src/geometry/oriented_box.ts";

/** Brute force: the best rectangle has a side along a line through two of the points. */
function bruteMinArea(points: readonly Point[]): number {
  let best = Infinity;
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i]!, b = points[j]!;
      const len = Math.hypot(b.x - a.x, b.y - a.y);
      if (len === 0) continue;
      const ux = (b.x - a.x) / len, uy = (b.y - a.y) / len;
      let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
      for (const p of points) {
        const u = p.x * ux + p.y * uy, v = -p.x * uy + p.y * ux;
        u0 = Math.min(u0, u);
        u1 = Math.max(u1, u);
        v0 = Math.min(v0, v);
        v1 = Math.max(v1, v);
      }
      best = Math.min(best, (u1 - u0) * (v1 - v0));
    }
  }
  return best;
}

function assertEncloses(box: OrientedBox, points: readonly Point[], tol = 1e-9): void {
  const cos = Math.cos(box.angle), sin = Math.sin(box.angle);
  for (const p of points) {
    const dx = p.x - box.cx, dy = p.y - box.cy;
    assert.ok(Math.abs(dx * cos + dy * sin) <= box.width / 2 + tol, "outside along width");
    assert.ok(Math.abs(-dx * sin + dy * cos) <= box.height / 2 + tol, "outside along height");
  }
}

Deno.test("minAreaRect() finds rotated rectangles exactly", () => {
  const rand = seededRandom(11);
  for (let t = 0; t < 300; t++) {
    const w = 1 + rand() * 50, h = 1 + rand() * 50, a = (rand() - 0.5) * 2 * Math.PI;
    const cx = rand() * 1000, cy = rand() * 1000;
    const cos = Math.cos(a), sin = Math.sin(a);
    const local: [number, number][] = [[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [
      -w / 2,
      h / 2,
    ]];
    // Points on the edges and inside, too.
    for (let k = 0; k < 10; k++) {
      local.push([(rand() - 0.5) * w, (rand() - 0.5) * h]);
      local.push([(rand() - 0.5) * w, h / 2]);
    }
    const pts = local.map(([u, v]) => ({ x: cx + u * cos - v * sin, y: cy + u * sin + v * cos }));
    const r = minAreaRect(pts);
    assertClose(r.width * r.height, w * h, 1e-9 * w * h + 1e-9);
    assertClose(r.cx, cx, 1e-7);
    assertClose(r.cy, cy, 1e-7);
    assert.ok(r.angle >= -Math.PI / 2 && r.angle < Math.PI / 2);
    const sides = [r.width, r.height].sort((p, q) => p - q);
    const want = [w, h].sort((p, q) => p - q);
    assertClose(sides[0]!, want[0]!, 1e-7);
    assertClose(sides[1]!, want[1]!, 1e-7);
  }
});

Deno.test("minAreaRect() matches a brute-force minimum on random point sets", () => {
  const rand = seededRandom(12);
  for (let t = 0; t < 300; t++) {
    const n = 3 + Math.floor(rand() * 25);
    const pts = Array.from({ length: n }, () => ({ x: rand() * 100, y: rand() * 60 }));
    const r = minAreaRect(pts);
    const best = bruteMinArea(pts);
    assertClose(r.width * r.height, best, 1e-9 * best + 1e-9);
    assertEncloses(r, pts);
  }
});

Deno.test("minAreaRect() matches cv2.minAreaRect on ground-truth contours", () => {
  // iSAID val annotations 0 and 7; areas from cv2.minAreaRect (OpenCV 5.0, float32 output).
  const a = [
    286,
    14,
    286,
    18,
    287,
    19,
    287,
    28,
    288,
    29,
    288,
    35,
    293,
    35,
    294,
    34,
    296,
    34,
    296,
    17,
    295,
    16,
    295,
    15,
    294,
    14,
  ];
  const b = [
    50,
    265,
    49,
    266,
    28,
    266,
    28,
    270,
    29,
    271,
    30,
    270,
    31,
    271,
    49,
    271,
    50,
    270,
    52,
    270,
    52,
    268,
    53,
    267,
    53,
    266,
    51,
    266,
  ];
  const pts = (f: number[]) =>
    Array.from({ length: f.length / 2 }, (_, i) => ({ x: f[2 * i]!, y: f[2 * i + 1]! }));
  const ra = minAreaRect(pts(a));
  assertClose(ra.width * ra.height, 210, 1e-9);
  assertClose(ra.cx, 291, 1e-9);
  assertClose(ra.cy, 24.5, 1e-9);
  const rb = minAreaRect(pts(b));
  assertClose(rb.width * rb.height, 149.6371053566163, 1e-4);
  assertClose(rb.cx, 40.5185546875, 1e-4);
  assertClose(rb.cy, 268.4082336425781, 1e-4);
});

Deno.test("minAreaRect() returns zero-size boxes for degenerate sets", () => {
  assert.deepEqual(minAreaRect([{ x: 3, y: 4 }]), { cx: 3, cy: 4, width: 0, height: 0, angle: 0 });
  assert.deepEqual(minAreaRect([{ x: 3, y: 4 }, { x: 3, y: 4 }]), {
    cx: 3,
    cy: 4,
    width: 0,
    height: 0,
    angle: 0,
  });
  const seg = minAreaRect([{ x: 0, y: 0 }, { x: 3, y: 4 }, { x: 6, y: 8 }, { x: 3, y: 4 }]);
  assertClose(seg.cx, 3);
  assertClose(seg.cy, 4);
  assertClose(seg.width, 10);
  assert.equal(seg.height, 0);
  assertClose(seg.angle, Math.atan2(4, 3));
  // A vertical segment: angle -pi/2, never +pi/2.
  const vert = minAreaRect([{ x: 1, y: 5 }, { x: 1, y: 0 }]);
  assertClose(vert.angle, -Math.PI / 2);
  assertClose(vert.width, 5);
});

Deno.test("minAreaRect() rejects empty and non-finite input", () => {
  assert.throws(() => minAreaRect([]), {
    name: "RangeError",
    message: "Cannot compute a minimum-area rectangle: no points",
  });
  assert.throws(() => minAreaRect([{ x: 0, y: 0 }, { x: 1, y: Infinity }]), {
    name: "RangeError",
    message: "Cannot compute a minimum-area rectangle: point 1 (1, Infinity) is not finite",
  });
});
