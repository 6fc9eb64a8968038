import assert from "node:assert/strict";
import { gtInstances, parseCocoGt, readCocoGt } from "../../src/eval/coco_gt.ts";
import { unionWindows } from "../../src/eval/_masks.ts";
import { encodeRle } from "../../src/masks/rle.ts";
import type { MaskWindow } from "../../src/masks/mask_window.ts";

const COCO = {
  images: [
    { id: 1, file_name: "a.jpg", width: 32, height: 32 },
    { id: 2, file_name: "b.jpg", width: 16, height: 8 },
  ],
  categories: [{ id: 1, name: "ship" }, { id: 9, name: "small_vehicle" }],
  annotations: [
    // 5 x 3 axis-aligned rectangle, vertices are pixel indices
    { id: 10, image_id: 1, category_id: 9, segmentation: [[2, 2, 6, 2, 6, 4, 2, 4]], iscrowd: 0 },
    // triangle (cv2.fillPoly gives 73 pixels, rows below)
    { id: 11, image_id: 1, category_id: 1, segmentation: [[10, 10, 20, 14, 12, 22]], iscrowd: 0 },
    // crowd: skipped by default
    { id: 12, image_id: 1, category_id: 1, segmentation: [[0, 0, 3, 0, 3, 3]], iscrowd: 1 },
    // two parts
    {
      id: 20,
      image_id: 2,
      category_id: 1,
      segmentation: [[0, 0, 1, 0, 1, 1, 0, 1], [5, 2, 6, 2, 6, 3, 5, 3]],
      iscrowd: 0,
    },
  ],
};

function pixels(m: MaskWindow): Set<string> {
  const out = new Set<string>();
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (m.data[y * m.width + x]) out.add(`${x + m.x0},${y + m.y0}`);
    }
  }
  return out;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("readCocoGt() reads plain and gzipped JSON alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(COCO));
    await Deno.writeFile(`${dir}/gt.json`, bytes);
    // the gzip is recognised by content, whatever the name
    await Deno.writeFile(`${dir}/gt.json.gz`, await gzip(bytes));
    await Deno.writeFile(`${dir}/misnamed.json`, await gzip(bytes));
    const plain = await readCocoGt(`${dir}/gt.json`);
    for (const name of ["gt.json.gz", "misnamed.json"]) {
      const g = await readCocoGt(`${dir}/${name}`);
      assert.deepEqual(g.images, plain.images);
      assert.deepEqual(g.categories, plain.categories);
      assert.deepEqual(g.annotationsByImage, plain.annotationsByImage);
    }
    assert.equal(plain.annotationsByImage.get(1)?.length, 3);
    assert.equal(plain.images[1]!.fileName, "b.jpg");
    await Deno.writeTextFile(`${dir}/bad.json`, "{ nope");
    await assert.rejects(() => readCocoGt(`${dir}/bad.json`), SyntaxError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseCocoGt() rejects broken references and shapes", () => {
  assert.throws(() => parseCocoGt([]), /Cannot read COCO ground truth <memory>: the top level/);
  const badImage = structuredClone(COCO);
  badImage.annotations[0]!.image_id = 99;
  assert.throws(() => parseCocoGt(badImage), /image id 99, which is not listed/);
  const badCat = structuredClone(COCO);
  badCat.annotations[0]!.category_id = 5;
  assert.throws(() => parseCocoGt(badCat), /category id 5/);
  const oddPolygon = structuredClone(COCO);
  oddPolygon.annotations[0]!.segmentation = [[1, 2, 3]];
  assert.throws(() => parseCocoGt(oddPolygon), SyntaxError);
});

Deno.test("gtInstances() fills polygons inclusively and derives the pixel-frame prompts", () => {
  const gt = parseCocoGt(COCO);
  const insts = gtInstances(gt, gt.images[0]!);
  assert.deepEqual(insts.map((i) => i.annotationId), [10, 11]); // crowd skipped
  const [rect, tri] = insts as [typeof insts[0], typeof insts[0]];
  assert.equal(rect.className, "small_vehicle");
  assert.deepEqual([rect.mask.x0, rect.mask.y0, rect.mask.width, rect.mask.height], [2, 2, 5, 3]);
  assert.equal(pixels(rect.mask).size, 15);
  // minAreaRect 4 x 2 at (4, 3) in index space -> 5 x 3 at (4.5, 3.5) in the pixel frame
  assert.ok(Math.abs(rect.box.cx - 4.5) < 1e-9 && Math.abs(rect.box.cy - 3.5) < 1e-9);
  assert.deepEqual([rect.box.width, rect.box.height].sort(), [3, 5]);
  assert.deepEqual(rect.hbox, { x0: 2, y0: 2, x1: 7, y1: 5 });

  // cv2.fillPoly([[10,10],[20,14],[12,22]]): per row [y, first x, last x]
  const rows = [
    [10, 10, 11],
    [11, 10, 13],
    [12, 10, 16],
    [13, 10, 18],
    [14, 11, 20],
    [15, 11, 19],
    [16, 11, 18],
    [17, 11, 17],
    [18, 11, 16],
    [19, 11, 15],
    [20, 12, 14],
    [21, 12, 13],
    [22, 12, 12],
  ];
  const want = new Set<string>();
  for (const [y, a, b] of rows) for (let x = a!; x <= b!; x++) want.add(`${x},${y}`);
  assert.deepEqual(pixels(tri.mask), want);
  assert.equal(want.size, 73);
  // cv2.minAreaRect: centre (12.5, 14.5), sides 9.8995 x 11.3137, 45 degrees
  assert.ok(Math.abs(tri.box.cx - 13) < 1e-6 && Math.abs(tri.box.cy - 15) < 1e-6);
  assert.ok(Math.abs((tri.box.width - 1) * (tri.box.height - 1) - 112) < 1e-6);
  assert.deepEqual(tri.hbox, { x0: 10, y0: 10, x1: 21, y1: 23 });

  assert.equal(gtInstances(gt, gt.images[0]!, { includeCrowd: true }).length, 3);
  assert.deepEqual(
    gtInstances(gt, gt.images[0]!, { categoryIds: new Set([1]) }).map((i) => i.annotationId),
    [11],
  );
});

Deno.test("gtInstances() unites the parts of a multi-part polygon", () => {
  const gt = parseCocoGt(COCO);
  const [inst] = gtInstances(gt, gt.images[1]!);
  assert.deepEqual(
    pixels(inst!.mask),
    new Set(["0,0", "1,0", "0,1", "1,1", "5,2", "6,2", "5,3", "6,3"]),
  );
  assert.deepEqual(inst!.hbox, { x0: 0, y0: 0, x1: 7, y1: 4 });
});

Deno.test("gtInstances() rounds float polygon vertices to pixel indices before the fill", () => {
  // A general COCO file's float polygon, and a sliver like the two in iSAID's train tiles
  // (annotation 38220: [0, 0, 0, 512.5, 0, 512.5, 0.3, 0.5]), which once stopped an eval.
  const floats = [[1.6, 2.4, 5.5, 1.9, 6.2, 4.49, 2.5, 3.6]]; // 5.5 -> 6, 2.5 -> 2
  const gt = parseCocoGt({
    images: [{ id: 1, file_name: "a.jpg", width: 16, height: 8 }],
    categories: [{ id: 1, name: "ship" }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, segmentation: floats, iscrowd: 0 },
      { id: 2, image_id: 1, category_id: 1, segmentation: [[2, 2, 6, 2, 6, 4, 2, 4]], iscrowd: 0 },
      { id: 3, image_id: 1, category_id: 1, segmentation: [[0, 0, 0, 8.5, 0, 8.5, 0.3, 0.5]] },
    ],
  });
  const [float, int, sliver] = gtInstances(gt, gt.images[0]!);
  assert.deepEqual(pixels(float!.mask), pixels(int!.mask));
  assert.deepEqual(float!.box, int!.box);
  // a one-pixel-wide column, x = 0, rows 0-7 (8.5 rounds to 8, like NumPy: outside the image)
  assert.deepEqual(pixels(sliver!.mask), new Set([0, 1, 2, 3, 4, 5, 6, 7].map((y) => `0,${y}`)));
});

Deno.test("gtInstances() accepts compressed and plain RLE segmentations", () => {
  // an L shape in a 6 x 5 image (width 6, height 5)
  const mask: MaskWindow = {
    x0: 1,
    y0: 1,
    width: 3,
    height: 3,
    data: Uint8Array.of(1, 0, 0, 1, 0, 0, 1, 1, 1),
  };
  const rle = encodeRle(mask, 6, 5);
  // plain counts, column-major: columns 0..5 of height 5
  // col 0: 5 zeros; col 1: 0, 1, 1, 1, 0; col 2: 0, 0, 0, 1, 0; col 3: same; cols 4-5 zeros
  const counts = [6, 3, 4, 1, 4, 1, 11];
  const gt = parseCocoGt({
    images: [{ id: 1, file_name: "x.png", width: 6, height: 5 }],
    categories: [{ id: 1, name: "ship" }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, segmentation: rle, iscrowd: 0 },
      { id: 2, image_id: 1, category_id: 1, segmentation: { size: [5, 6], counts }, iscrowd: 0 },
    ],
  });
  const [a, b] = gtInstances(gt, gt.images[0]!);
  const want = new Set(["1,1", "1,2", "1,3", "2,3", "3,3"]);
  assert.deepEqual(pixels(a!.mask), want);
  assert.deepEqual(pixels(b!.mask), want);
  assert.deepEqual(a!.hbox, { x0: 1, y0: 1, x1: 4, y1: 4 });
  assert.ok(Math.abs((a!.box.width - 1) * (a!.box.height - 1) - 4) < 1e-9); // 2 x 2 in index space
});

Deno.test("unionWindows() unites windows on their joint window", () => {
  const u = unionWindows([
    { x0: 0, y0: 0, width: 1, height: 1, data: Uint8Array.of(1) },
    { x0: 2, y0: 1, width: 1, height: 1, data: Uint8Array.of(1) },
  ]);
  assert.deepEqual([u.x0, u.y0, u.width, u.height], [0, 0, 3, 2]);
  assert.deepEqual([...u.data], [1, 0, 0, 0, 0, 1]);
});
