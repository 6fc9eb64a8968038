/**
 * Render a small synthetic aerial scene with known oriented boxes: the
 * project's own out-of-the-box example (no downloaded data).
 *
 *     deno run --allow-write=examples/scene examples/make_scene.ts [--out examples/scene] [--size 768] [--seed 7]
 *
 * Writes `<out>/images/scene.png`, `<out>/labelTxt/scene.txt` (DOTA format:
 * vehicles in a parking lot, ships on water, storage tanks) and
 * `<out>/ground_truth.json` (COCO with the exact rendered masks as polygons,
 * so the example can be scored too).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encode } from "fast-png";
import { mulberry32 } from "../src/random.ts";

interface Obj {
  cls: string;
  cx: number;
  cy: number;
  w: number;
  h: number;
  angle: number;
  color: [number, number, number];
  shape: "rect" | "ellipse" | "hull";
}

/** Inside test in the object's own frame (u along width, v along height). */
function inside(o: Obj, x: number, y: number): boolean {
  const dx = x - o.cx, dy = y - o.cy;
  const c = Math.cos(o.angle), s = Math.sin(o.angle);
  const u = (dx * c + dy * s) / (o.w / 2);
  const v = (-dx * s + dy * c) / (o.h / 2);
  if (o.shape === "ellipse") return u * u + v * v <= 1;
  if (o.shape === "hull") {
    // A ship: a rectangle with a pointed bow at u > 0.6.
    if (Math.abs(v) > 1 || u < -1 || u > 1) return false;
    return u <= 0.6 || Math.abs(v) <= (1 - u) / 0.4;
  }
  return Math.abs(u) <= 1 && Math.abs(v) <= 1;
}

function corners(o: Obj): number[] {
  const c = Math.cos(o.angle), s = Math.sin(o.angle);
  const out: number[] = [];
  for (const [a, b] of [[-1, -1], [1, -1], [1, 1], [-1, 1]] as const) {
    const u = (a * o.w) / 2, v = (b * o.h) / 2;
    out.push(o.cx + u * c - v * s, o.cy + u * s + v * c);
  }
  return out;
}

/** A mask as one degenerate polygon per row run: exact under the inclusive (OpenCV) fill. */
function maskRuns(mask: Uint8Array, w: number, h: number): number[][] {
  const polys: number[][] = [];
  for (let y = 0; y < h; y++) {
    let x = 0;
    while (x < w) {
      if (!mask[y * w + x]) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < w && mask[y * w + x]) x++;
      // COCO polygon vertices are pixel indices of boundary pixels (OpenCV convention).
      polys.push([x0, y, x - 1, y, x - 1, y, x0, y]);
    }
  }
  return polys;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "examples/scene" },
      size: { type: "string", default: "768" },
      seed: { type: "string", default: "7" },
    },
  });
  const size = Number(values.size);
  const rand = mulberry32(Number(values.seed));
  const W = size, H = size;
  const img = new Uint8Array(W * H * 3);
  // Background: grass on the left, asphalt lot in the middle, water on the right.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const n = (rand() - 0.5) * 16;
      let c: [number, number, number];
      if (x < W * 0.25) c = [86 + n, 110 + n, 62 + n];
      else if (x < W * 0.62) c = [104 + n, 104 + n, 100 + n];
      else c = [38 + n / 2, 70 + n / 2, 92 + n / 2];
      const i = 3 * (y * W + x);
      img[i] = c[0];
      img[i + 1] = c[1];
      img[i + 2] = c[2];
    }
  }
  // Parking lines.
  for (let x = Math.round(W * 0.27); x < W * 0.6; x += 14) {
    for (let y = 40; y < H - 40; y++) {
      if (y % 120 < 60) img.set([220, 220, 210], 3 * (y * W + x));
    }
  }
  const objs: Obj[] = [];
  const palette: [number, number, number][] = [
    [200, 30, 30],
    [230, 230, 235],
    [25, 25, 30],
    [40, 70, 160],
    [180, 180, 60],
  ];
  // Small vehicles in rows, slightly rotated.
  for (let row = 0; row < 5; row++) {
    for (let k = 0; k < 9; k++) {
      if (rand() < 0.25) continue;
      const cx = W * 0.28 + 7 + k * 28 + (rand() - 0.5) * 3;
      const cy = 70 + row * 120 + (rand() - 0.5) * 4;
      objs.push({
        cls: "small-vehicle",
        cx,
        cy,
        w: 8 + rand() * 3,
        h: 16 + rand() * 4,
        angle: (rand() - 0.5) * 0.3,
        color: palette[Math.floor(rand() * palette.length)]!,
        shape: "rect",
      });
    }
  }
  // Two large vehicles on the grass road.
  for (let k = 0; k < 2; k++) {
    objs.push({
      cls: "large-vehicle",
      cx: W * 0.12,
      cy: 150 + k * 260,
      w: 48,
      h: 14,
      angle: 1.2 + k * 0.2,
      color: [210, 210, 200],
      shape: "rect",
    });
  }
  // Ships on the water.
  for (let k = 0; k < 5; k++) {
    objs.push({
      cls: "ship",
      cx: W * 0.7 + rand() * W * 0.22,
      cy: 80 + k * (H - 160) / 4,
      w: 40 + rand() * 70,
      h: 12 + rand() * 10,
      angle: rand() * Math.PI,
      color: [235, 235, 228],
      shape: "hull",
    });
  }
  // Storage tanks on the grass.
  for (let k = 0; k < 3; k++) {
    const d = 30 + rand() * 20;
    objs.push({
      cls: "storage-tank",
      cx: 50,
      cy: 100 + k * 200,
      w: d,
      h: d,
      angle: 0,
      color: [200, 200, 195],
      shape: "ellipse",
    });
  }
  const images = [{ id: 1, file_name: "scene.png", width: W, height: H }];
  const categories = [...new Set(objs.map((o) => o.cls))].map((name, i) => ({ id: i + 1, name }));
  const annotations: unknown[] = [];
  const lines = ["imagesource:sopseg synthetic scene", "gsd:0.3"];
  objs.forEach((o, idx) => {
    const mask = new Uint8Array(W * H);
    const r = Math.ceil(Math.hypot(o.w, o.h) / 2) + 1;
    let area = 0;
    for (let y = Math.max(0, Math.floor(o.cy - r)); y < Math.min(H, o.cy + r); y++) {
      for (let x = Math.max(0, Math.floor(o.cx - r)); x < Math.min(W, o.cx + r); x++) {
        // A pixel belongs to the object when its centre does.
        if (!inside(o, x + 0.5, y + 0.5)) continue;
        mask[y * W + x] = 1;
        area++;
        const shade = 0.85 + 0.15 * Math.cos((x - o.cx) * 0.2);
        const i = 3 * (y * W + x);
        img[i] = Math.min(255, o.color[0] * shade);
        img[i + 1] = Math.min(255, o.color[1] * shade);
        img[i + 2] = Math.min(255, o.color[2] * shade);
      }
    }
    const c = corners(o).map((v) => v.toFixed(1));
    lines.push(`${c.join(" ")} ${o.cls} 0`);
    annotations.push({
      id: idx + 1,
      image_id: 1,
      category_id: categories.find((k) => k.name === o.cls)!.id,
      segmentation: maskRuns(mask, W, H),
      area,
      bbox: [o.cx - o.w / 2, o.cy - o.h / 2, o.w, o.h],
      iscrowd: 0,
    });
  });
  const out = values.out!;
  await Deno.mkdir(`${out}/images`, { recursive: true });
  await Deno.mkdir(`${out}/labelTxt`, { recursive: true });
  await Deno.writeFile(
    `${out}/images/scene.png`,
    encode({ width: W, height: H, data: img, channels: 3 }),
  );
  await Deno.writeTextFile(`${out}/labelTxt/scene.txt`, lines.join("\n") + "\n");
  await Deno.writeTextFile(
    `${out}/ground_truth.json`,
    JSON.stringify({ images, categories, annotations }),
  );
  console.error(`wrote ${out}/images/scene.png (${W}x${H}), ${objs.length} oriented boxes`);
}
