// mmrotate's JSON results (`<prefix>.bbox.json`) through the real CLI on a real DOTA image:
// the same boxes written in each angle convention, or as corners, give the masks the
// labelTxt gives; without the convention the run refuses to guess.
import assert from "node:assert/strict";
import { DOTA, runTask } from "./_run_cli.ts";
import { dataTest } from "../_data.ts";
import { parseDota } from "../../src/formats/dota.ts";
import type { OrientedBox } from "../../src/geometry/oriented_box.ts";

interface Coco {
  annotations: { segmentation: { counts: string }; category_id: number; score: number | null }[];
  categories: { id: number; name: string }[];
}

/**
 * The box as mmrotate writes it in one angle convention (radians): `[cx, cy, w, h, angle]`
 * with `w` the long side and its direction in [-pi/2, pi/2) (le90) or [-pi/4, 3pi/4) (le135);
 * for oc, the side whose direction falls in (0, pi/2].
 */
function rbox(b: OrientedBox, convention: "le90" | "le135" | "oc"): number[] {
  const long = b.width >= b.height;
  const [w, h] = long ? [b.width, b.height] : [b.height, b.width];
  const wrap = (a: number, low: number) => a - Math.PI * Math.floor((a - low) / Math.PI);
  const a = wrap(long ? b.angle : b.angle + Math.PI / 2, -Math.PI / 2); // le90
  if (convention === "le90") return [b.cx, b.cy, w, h, a];
  if (convention === "le135") return [b.cx, b.cy, w, h, wrap(a, -Math.PI / 4)];
  return a > 0 ? [b.cx, b.cy, w, h, a] : [b.cx, b.cy, h, w, a + Math.PI / 2];
}

async function segment(detections: string, out: string, extra: string[]) {
  return await runTask("segment", [
    "--images",
    `${DOTA}/images/P1888.png`,
    "--detections",
    detections,
    "--out",
    out,
    "--backend",
    "wasm",
    ...extra,
  ]);
}

dataTest({
  name: "segment reads mmrotate JSON results in every angle convention as the labelTxt reads",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const label = `${DOTA}/labelTxt/P1888.txt`;
      const { detections } = parseDota(await Deno.readTextFile(label), { source: label });
      const names = [...new Set(detections.map((d) => d.className))];
      const write = async (name: string, bbox: (b: OrientedBox, i: number) => number[]) => {
        const records = detections.map((d, i) => ({
          image_id: "P1888",
          bbox: bbox(d.box, i),
          score: 0.5 + i / 1000,
          category_id: names.indexOf(d.className),
        }));
        await Deno.writeTextFile(`${dir}/${name}.bbox.json`, JSON.stringify(records));
        return `${dir}/${name}.bbox.json`;
      };
      const reference = await segment(label, `${dir}/ref`, []);
      assert.equal(reference.code, 0, reference.stderr);
      const ref: Coco = JSON.parse(await Deno.readTextFile(`${dir}/ref/coco.json`));
      assert.equal(ref.annotations.length, 64);

      const runs: [string, string, string[]][] = [
        ["le90", await write("le90", (b) => rbox(b, "le90")), ["--angle-convention", "le90"]],
        ["le135", await write("le135", (b) => rbox(b, "le135")), ["--angle-convention", "le135"]],
        ["oc", await write("oc", (b) => rbox(b, "oc")), ["--angle-convention", "oc"]],
        [
          "qbox",
          await write("qbox", (_, i) => detections[i]!.corners!.flatMap((p) => [p.x, p.y])),
          [],
        ],
      ];
      // the three conventions write the DOTA boxes differently, so each reading is tested
      const texts = await Promise.all(runs.slice(0, 3).map(([, f]) => Deno.readTextFile(f)));
      assert.equal(new Set(texts).size, 3);
      for (const [name, file, flags] of runs) {
        const r = await segment(file, `${dir}/${name}`, ["--classes", names.join(","), ...flags]);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.match(r.stderr, /done: 64 masks on 1 image\(s\)/);
        assert.match(r.stderr, /sopseg: reading the mmrotate results \(.*\.bbox\.json\)\n/);
        assert.match(r.stderr, /64 detections of 1 image id\(s\) in the mmrotate results, read in/);
        const got: Coco = JSON.parse(await Deno.readTextFile(`${dir}/${name}/coco.json`));
        assert.equal(got.annotations.length, 64, name);
        got.annotations.forEach((a, i) => {
          const b = ref.annotations[i]!;
          assert.equal(a.segmentation.counts, b.segmentation.counts, `${name}: mask ${i}`);
          const cat = (c: Coco, id: number) => c.categories.find((x) => x.id === id)?.name;
          assert.equal(cat(got, a.category_id), cat(ref, b.category_id), `${name}: class ${i}`);
          assert.equal(a.score, 0.5 + i / 1000);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name: "segment refuses mmrotate boxes without --angle-convention, names bad records, goes on",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const records = [
        { image_id: "P1888", bbox: [686, 361, 20, 11, 1.5], score: 0.9, category_id: 0 },
        { image_id: "P1888", bbox: [686, 361, 20, 11], score: 0.9, category_id: 0 },
        { image_id: "P9999", bbox: [10, 10, 8, 4, 0], score: 0.9, category_id: 0 },
        { image_id: "P1888__1024__0___0", bbox: [10, 10, 8, 4, 0], score: 0.9, category_id: 0 },
      ];
      const file = `${dir}/results.bbox.json`;
      await Deno.writeTextFile(file, JSON.stringify(records));
      const refused = await segment(file, `${dir}/none`, []);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /results\.bbox\.json.*--angle-convention le90, le135 or oc/);
      assert.equal(await Deno.stat(`${dir}/none`).then(() => true, () => false), false);

      const r = await segment(file, `${dir}/out`, ["--angle-convention", "le90"]);
      assert.equal(r.code, 1, r.stderr); // a malformed record: exit 1 at the end
      assert.match(r.stderr, /results\.bbox\.json: Cannot read mmrotate record 1 \(image P1888\)/);
      assert.match(
        r.stderr,
        /warning: no image for 2 image id\(s\) of the mmrotate results: P1888__1024__0___0, P9999; 1 of them look like patches of split images/,
      );
      assert.match(r.stderr, /done: 1 masks on 1 image\(s\)/);
      const fc = JSON.parse(await Deno.readTextFile(`${dir}/out/P1888.geojson`));
      assert.equal(fc.features.length, 1);
      assert.equal(fc.features[0].properties.class, "0"); // no --classes: the id
      const { source_file, source_line, source_record } = fc.features[0].properties;
      assert.deepEqual([source_file, source_line, source_record], [file, null, 0]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name: "segment reads mmrotate JSON results piped in, for a folder of images, as their files",
  needs: [DOTA],
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // both DOTA samples' labelTxt boxes as one results array (corners: no convention needed)
      const records = [];
      const names: string[] = [];
      for (const stem of ["P0706", "P1888"]) {
        const label = `${DOTA}/labelTxt/${stem}.txt`;
        const { detections } = parseDota(await Deno.readTextFile(label), { source: label });
        for (const d of detections) {
          if (!names.includes(d.className)) names.push(d.className);
          records.push({
            image_id: stem,
            bbox: d.corners!.flatMap((p) => [p.x, p.y]),
            score: 0.9,
            category_id: names.indexOf(d.className),
          });
        }
      }
      const args = (detections: string, out: string) => [
        "--images",
        `${DOTA}/images`,
        "--detections",
        detections,
        "--out",
        out,
        "--backend",
        "wasm",
      ];
      const ref = await runTask("segment", args(`${DOTA}/labelTxt`, `${dir}/ref`));
      assert.equal(ref.code, 0, ref.stderr);
      const piped = await runTask(
        "segment",
        [...args("-", `${dir}/piped`), "--classes", names.join(",")],
        JSON.stringify(records),
      );
      assert.equal(piped.code, 0, piped.stderr);
      assert.match(piped.stderr, /done: 600 masks on 2 image\(s\)/);
      const masks = async (out: string) =>
        (JSON.parse(await Deno.readTextFile(`${out}/coco.json`)) as Coco).annotations
          .map((a) => a.segmentation.counts);
      assert.deepEqual(await masks(`${dir}/piped`), await masks(`${dir}/ref`));

      // Task1 lines carry no class: piped in, they are refused with what to give instead
      const task1 = await runTask(
        "segment",
        [...args("-", `${dir}/task1`), "--format", "task1"],
        "P1888 0.9 10 10 30 10 30 20 10 20\n",
      );
      assert.equal(task1.code, 2, task1.stderr);
      assert.match(task1.stderr, /--format task1 reads files .*: the class is in the file name/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
