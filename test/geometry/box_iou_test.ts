import assert from "node:assert/strict";
import { mulberry32 } from "../../src/random.ts";
import { orientedBoxIoU } from "../../src/geometry/box_iou.ts";
import { boxCorners, type OrientedBox } from "../../src/geometry/oriented_box.ts";

/** Whether a point is inside an oriented box. */
function inside(b: OrientedBox, x: number, y: number): boolean {
  const dx = x - b.cx, dy = y - b.cy;
  const u = dx * Math.cos(b.angle) + dy * Math.sin(b.angle);
  const v = -dx * Math.sin(b.angle) + dy * Math.cos(b.angle);
  return Math.abs(u) <= b.width / 2 && Math.abs(v) <= b.height / 2;
}

Deno.test("orientedBoxIoU() agrees with a fine grid count on random box pairs", () => {
  const r = mulberry32(7);
  for (let k = 0; k < 40; k++) {
    const box = (): OrientedBox => ({
      cx: 20 + 10 * r(),
      cy: 20 + 10 * r(),
      width: 2 + 20 * r(),
      height: 2 + 10 * r(),
      angle: Math.PI * (r() - 0.5),
    });
    const a = box(), b = box();
    const step = 0.05;
    let both = 0, either = 0;
    for (let x = 0; x < 50; x += step) {
      for (let y = 0; y < 50; y += step) {
        const ia = inside(a, x, y), ib = inside(b, x, y);
        if (ia && ib) both++;
        if (ia || ib) either++;
      }
    }
    const grid = either === 0 ? 0 : both / either;
    const iou = orientedBoxIoU(a, b);
    assert.ok(Math.abs(iou - grid) < 0.01, `pair ${k}: ${iou} vs grid ${grid}`);
    assert.ok(Math.abs(iou - orientedBoxIoU(b, a)) < 1e-12, `pair ${k} not symmetric`);
  }
});

Deno.test("orientedBoxIoU() of disjoint, nested, degenerate and reversed-corner boxes", () => {
  const a: OrientedBox = { cx: 10, cy: 10, width: 6, height: 4, angle: 0.3 };
  assert.equal(orientedBoxIoU(a, { ...a, cx: 30 }), 0);
  assert.ok(Math.abs(orientedBoxIoU(a, { ...a, width: 3, height: 2 }) - 0.25) < 1e-12);
  assert.equal(orientedBoxIoU(a, { ...a, height: 0 }), 0);
  // the same rectangle described with its sides swapped and turned by 90 degrees
  const swapped = { ...a, width: 4, height: 6, angle: 0.3 - Math.PI / 2 };
  assert.deepEqual(
    boxCorners(swapped).map((p) => [p.x, p.y].map((v) => v.toFixed(9))).sort(),
    boxCorners(a).map((p) => [p.x, p.y].map((v) => v.toFixed(9))).sort(),
  );
  assert.ok(Math.abs(orientedBoxIoU(a, swapped) - 1) < 1e-12);
});
