/**
 * A small real input for sharding tests: the first iSAID val tiles (by file
 * name), linked in place into a temporary folder, and their ground-truth
 * instances as DOTA labelTxt (the minimum-area rectangle of each polygon,
 * the first `maxBoxes` instances of each tile, in annotation id order).
 *
 * @module
 */
import { SHARED_DATA } from "../_data.ts";
import { minAreaRect } from "../../src/geometry/min_area_rect.ts";
import { boxCorners } from "../../src/geometry/oriented_box.ts";

/** The iSAID val split, read in place. */
export const ISAID_VAL = `${SHARED_DATA}/isaid512/val`;

/** What {@linkcode isaidSubset} made. */
export interface IsaidSubset {
  /** A folder of symlinks to the tiles. */
  images: string;
  /** A folder of `<stem>.txt` DOTA files. */
  labels: string;
  /** The tiles' file names, sorted. */
  names: string[];
  /** Boxes per tile, in `names` order. */
  boxes: number[];
}

interface Coco {
  images: { id: number; file_name: string }[];
  annotations: { id: number; image_id: number; category_id: number; segmentation: number[][] }[];
  categories: { id: number; name: string }[];
}

/** Writes `<dir>/images` and `<dir>/labels` for the first `count` val tiles. */
export async function isaidSubset(
  dir: string,
  options: { count: number; maxBoxes: number },
): Promise<IsaidSubset> {
  const file = await Deno.open(`${ISAID_VAL}/annotations.json.gz`);
  const text = await new Response(
    file.readable.pipeThrough(new DecompressionStream("gzip")),
  ).text();
  const coco = JSON.parse(text) as Coco;
  const classOf = new Map(coco.categories.map((c) => [c.id, c.name]));
  const images = [...coco.images].sort((a, b) => a.file_name < b.file_name ? -1 : 1)
    .slice(0, options.count);
  const byImage = new Map<number, Coco["annotations"]>();
  for (const a of [...coco.annotations].sort((a, b) => a.id - b.id)) {
    let list = byImage.get(a.image_id);
    if (list === undefined) byImage.set(a.image_id, list = []);
    list.push(a);
  }
  await Deno.mkdir(`${dir}/images`, { recursive: true });
  await Deno.mkdir(`${dir}/labels`, { recursive: true });
  const boxes: number[] = [];
  for (const image of images) {
    await Deno.symlink(
      `${ISAID_VAL}/images/${image.file_name}`,
      `${dir}/images/${image.file_name}`,
    );
    const lines = (byImage.get(image.id) ?? []).slice(0, options.maxBoxes).map((a) => {
      const points = a.segmentation.flatMap((ring) =>
        Array.from(
          { length: ring.length / 2 },
          (_, i) => ({ x: ring[2 * i]!, y: ring[2 * i + 1]! }),
        )
      );
      const corners = boxCorners(minAreaRect(points));
      return `${corners.map((p) => `${p.x.toFixed(2)} ${p.y.toFixed(2)}`).join(" ")} ${
        classOf.get(a.category_id)
      } 0`;
    });
    boxes.push(lines.length);
    const stem = image.file_name.replace(/\.[^.]+$/, "");
    await Deno.writeTextFile(`${dir}/labels/${stem}.txt`, lines.join("\n") + "\n");
  }
  return {
    images: `${dir}/images`,
    labels: `${dir}/labels`,
    names: images.map((i) => i.file_name),
    boxes,
  };
}
