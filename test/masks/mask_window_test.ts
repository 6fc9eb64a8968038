import { assert } from "../_assert.ts";
import {
  assertMaskWindow,
  emptyMaskWindow,
  maskArea,
  trimMaskWindow,
} from "../../src/masks/mask_window.ts";
import { fromRows, toRows } from "./_masks.ts";

Deno.test("emptyMaskWindow() allocates a zero window and checks its size", () => {
  const m = emptyMaskWindow({ x0: -2, y0: 5, width: 4, height: 3 });
  assert.equal(m.data.length, 12);
  assert.equal(maskArea(m), 0);
  assert.throws(() => emptyMaskWindow({ x0: 0.5, y0: 0, width: 1, height: 1 }), {
    name: "RangeError",
    message: "Cannot create a mask window: origin (0.5, 0) is not integer",
  });
  assert.throws(() => emptyMaskWindow({ x0: 0, y0: 0, width: -1, height: 1 }), /size -1 x 1/);
});

Deno.test("trimMaskWindow() shrinks to the foreground's bounding box", () => {
  const m = fromRows([".....", "..#..", ".##..", "....."], 10, 20);
  const t = trimMaskWindow(m);
  assert.deepEqual([t.x0, t.y0, t.width, t.height], [11, 21, 2, 2]);
  assert.deepEqual(toRows(t), [".#", "##"]);
  assert.equal(maskArea(t), maskArea(m));
  const none = trimMaskWindow(fromRows(["..", ".."], 3, 4));
  assert.deepEqual([none.x0, none.y0, none.width, none.height, none.data.length], [3, 4, 0, 0, 0]);
});

Deno.test("assertMaskWindow() names inconsistent windows", () => {
  assert.throws(
    () => assertMaskWindow({ x0: 0, y0: 0, width: 2, height: 2, data: new Uint8Array(5) }, "do it"),
    { name: "RangeError", message: "Cannot do it: data has 5 pixels, expected 2 x 2 = 4" },
  );
  assert.throws(
    () =>
      assertMaskWindow({ x0: 0, y0: 0.5, width: 0, height: 0, data: new Uint8Array(0) }, "do it"),
    /window origin \(0, 0.5\) is not integer/,
  );
});
