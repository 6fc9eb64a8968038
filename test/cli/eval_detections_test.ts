// `deno task eval --detections` on real iSAID val tiles: the GT's own boxes written as a
// detector's DOTA files (DOTA class spellings) score as the GT prompts do; boxes left out
// and boxes of nothing are counted per class, and the masks are scored over the matches.
import assert from "node:assert/strict";
import { runTask } from "./_run_cli.ts";
import { ISAID_VAL } from "./_isaid_subset.ts";
import { dataTest } from "../_data.ts";
import { gtInstances, readCocoGt } from "../../src/eval/coco_gt.ts";
import { boxCorners } from "../../src/geometry/oriented_box.ts";
import type { EvalReport } from "../../src/eval/run_eval.ts";

const GT = `${ISAID_VAL}/annotations_all.json.gz`;
const IMAGES = 12;

async function evaluate(dir: string, name: string, extra: string[]): Promise<EvalReport> {
  const out = `${dir}/${name}.json`;
  const r = await runTask("eval", [
    ...["--gt", GT, "--images", `${ISAID_VAL}/images`, "--max-images", String(IMAGES)],
    ...["--backend", "wasm", "--out-json", out, ...extra],
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(await Deno.readTextFile(out));
}

dataTest({
  name: "eval --detections matches a detector's boxes to the GT and scores the matches",
  needs: [GT],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_evaldet_" });
    try {
      const gt = await readCocoGt(GT);
      const exact = `${dir}/exact`, partial = `${dir}/partial`;
      await Deno.mkdir(exact);
      await Deno.mkdir(partial);
      let total = 0, dropped = 0, added = 0;
      for (const image of gt.images.slice(0, IMAGES)) {
        const lines: string[] = [];
        for (const inst of gtInstances(gt, image)) {
          const corners = boxCorners(inst.box).flatMap((p) => [p.x, p.y]);
          lines.push(`${corners.join(" ")} ${inst.className.replaceAll("_", "-")} 0`);
        }
        total += lines.length;
        const stem = image.fileName.replace(/\.[^.]+$/, "");
        await Deno.writeTextFile(`${exact}/${stem}.txt`, lines.join("\n") + "\n");
        // every third box left out, and a box over nothing in the image's corner
        const kept = lines.filter((_, i) => i % 3 !== 1);
        dropped += lines.length - kept.length;
        kept.push("1 1 9 1 9 5 1 5 ship 0");
        added++;
        // a class the ground truth does not have: left out of the matching, counted
        kept.push("20 20 30 20 30 26 20 26 container-crane 0");
        await Deno.writeTextFile(`${partial}/${stem}.txt`, kept.join("\n") + "\n");
      }
      assert.ok(total > 100 && dropped > 30, `${total} boxes, ${dropped} dropped`);

      const reference = await evaluate(dir, "reference", []);
      const same = await evaluate(dir, "same", ["--detections", exact]);
      assert.equal(same.skippedInstances, 0);
      assert.deepEqual(
        [same.detections!.gt, same.detections!.detections, same.detections!.matched],
        [total, total, total],
      );
      assert.ok(Math.abs(same.summary.mIoU! - reference.summary.mIoU!) < 1e-9);
      assert.equal(same.summary.all.instances, reference.summary.all.instances);

      const part = await evaluate(dir, "partial", ["--detections", partial]);
      const d = part.detections!;
      assert.deepEqual([d.gt, d.detections, d.matched], [
        total,
        total - dropped + added,
        total - dropped,
      ]);
      assert.equal(part.skippedInstances, dropped);
      assert.equal(part.summary.all.instances, total - dropped);
      const ships = d.classes.find((c) => c.className === "ship")!;
      assert.equal(ships.detections - ships.matched, added);
      // classes named as DOTA spells them and as iSAID does are one class
      assert.ok(d.classes.every((c) => !c.className.includes("-")), JSON.stringify(d.classes));
      assert.deepEqual(d.otherClasses, [{ className: "container_crane", detections: IMAGES }]);

      // the floor of the same matches: the detections' boxes filled, no model
      const floor = await evaluate(dir, "floor", [
        "--baseline",
        "obb-fill",
        "--detections",
        partial,
      ]);
      assert.equal(floor.summary.all.instances, total - dropped);
      assert.ok(floor.summary.mIoU! < part.summary.mIoU!);

      // the 7-class GT file lists all 15 categories but annotates 7: detections of the other 8
      // are of classes it does not have, not false positives
      const listed = `${dir}/listed`;
      await Deno.mkdir(listed);
      for await (const e of Deno.readDir(exact)) {
        const text = await Deno.readTextFile(`${exact}/${e.name}`);
        await Deno.writeTextFile(
          `${listed}/${e.name}`,
          text + "40 40 90 40 90 70 40 70 tennis-court 0\n",
        );
      }
      const seven = `${dir}/seven.json`;
      const r7 = await runTask("eval", [
        ...["--gt", `${ISAID_VAL}/annotations.json.gz`, "--images", `${ISAID_VAL}/images`],
        ...["--max-images", String(IMAGES), "--backend", "wasm", "--out-json", seven],
        ...["--detections", listed],
      ]);
      assert.equal(r7.code, 0, r7.stderr);
      const d7 = (JSON.parse(await Deno.readTextFile(seven)) as EvalReport).detections!;
      assert.equal(d7.detections, d7.matched, JSON.stringify(d7.classes));
      assert.deepEqual(d7.otherClasses, [{ className: "tennis_court", detections: IMAGES }]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name:
    "eval --detections names files matching no GT image, refuses when none does, checks --out-* first",
  needs: [GT],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_evaldet_match_" });
    try {
      const gt = await readCocoGt(GT);
      const stem = gt.images[0]!.fileName.replace(/\.[^.]+$/, "");
      await Deno.writeTextFile(`${dir}/P0706.txt`, "10 10 30 10 30 20 10 20 ship 0\n");
      const base = ["--gt", GT, "--images", `${ISAID_VAL}/images`, "--baseline", "obb-fill"];
      // another dataset's files only: nothing could be scored
      const none = await runTask("eval", [...base, "--detections", dir, "--max-images", "1"]);
      assert.equal(none.code, 2, none.stderr);
      assert.match(
        none.stderr,
        /none of their 1 file\(s\) \(P0706\) is an image of the ground truth .*another split or dataset\?/,
      );
      // one file of a GT image beside it: scored, the other named
      await Deno.writeTextFile(`${dir}/${stem}.txt`, "10 10 30 10 30 20 10 20 ship 0\n");
      const some = await runTask("eval", [...base, "--detections", dir, "--max-images", "1"]);
      assert.equal(some.code, 0, some.stderr);
      assert.match(
        some.stderr,
        /warning: 1 file\(s\) of .* match no image of the ground truth, left out: P0706/,
      );
      // a report's folder that does not exist: refused before the evaluation
      const out = await runTask("eval", [...base, "--out-json", `${dir}/no/such/r.json`]);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, /Cannot write --out-json .*no\/such\/r\.json: no folder/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

dataTest({
  name:
    "eval: a selected class with no instance in the evaluated images is said, not a silent dash",
  needs: [GT],
  async fn() {
    const r = await runTask("eval", [
      ...["--gt", GT, "--images", `${ISAID_VAL}/images`, "--baseline", "obb-fill"],
      ...["--max-images", "1", "--classes", "helicopter,roundabout,small_vehicle"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: no instance of helicopter, roundabout was scored in the evaluated images: they are left out of the mean/,
    );
  },
});

dataTest({
  name:
    "eval: a run that can score nothing, or lacks an image, stops at once (exit 2); unnamed groups are a usage error",
  needs: [GT],
  async fn() {
    const seven = `${ISAID_VAL}/annotations.json.gz`; // lists 15 categories, annotates 7
    const none = await runTask("eval", [
      ...["--gt", seven, "--baseline", "obb-fill", "--max-images", "3", "--classes", "harbor"],
    ]);
    assert.equal(none.code, 2, none.stderr);
    assert.match(
      none.stderr,
      /no instance of harbor was scored .* \(.*annotations\.json\.gz lists harbor among its categories but annotates none\)/,
    );
    assert.match(
      none.stderr,
      /Cannot evaluate: not one instance was scored \(classes harbor in 3 image\(s\)/,
    );

    const dir = await Deno.makeTempDir({ prefix: "sopseg_evalmiss_" });
    try {
      const gt = await readCocoGt(GT);
      // the first two images of the GT, not the third: refused before the model loads
      for (const image of gt.images.slice(0, 2)) {
        await Deno.symlink(`${ISAID_VAL}/images/${image.fileName}`, `${dir}/${image.fileName}`);
      }
      const started = performance.now();
      const missing = await runTask("eval", [
        ...["--gt", GT, "--images", dir, "--max-images", "3", "--backend", "wasm"],
      ]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(
        missing.stderr,
        new RegExp(
          `Cannot evaluate: 1 of the 3 image\\(s\\) the GT needs are not in --images ${dir} \\(${
            gt.images[2]!.fileName.replaceAll(".", "\\.")
          }\\)`,
        ),
      );
      assert.doesNotMatch(missing.stderr, /images, \d+ instances/); // no image was segmented
      assert.ok(performance.now() - started < 60_000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }

    const groups = await runTask("eval", [
      ...[
        "--gt",
        GT,
        "--baseline",
        "obb-fill",
        "--class-groups",
        "vehicles=small_vehicle+large_vehicle",
      ],
    ]);
    assert.equal(groups.code, 2, groups.stderr);
    assert.match(groups.stderr, /--class-groups defines vehicles, which --classes does not name/);
  },
});

dataTest({
  name:
    "eval --detections: a GT class no detection matched keeps its row and is said; the report says how it was made",
  needs: [GT],
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sopseg_evalrow_" });
    try {
      const gt = await readCocoGt(GT);
      const images = gt.images.slice(0, IMAGES);
      const classes = new Set<string>();
      for (const image of images) {
        const lines: string[] = [];
        for (const inst of gtInstances(gt, image)) {
          classes.add(inst.className);
          if (inst.className === "small_vehicle") continue; // the detector misses them all
          const corners = boxCorners(inst.box).flatMap((p) => [p.x, p.y]);
          lines.push(`${corners.join(" ")} ${inst.className} 0`);
        }
        const stem = image.fileName.replace(/\.[^.]+$/, "");
        await Deno.writeTextFile(`${dir}/${stem}.txt`, lines.join("\n") + "\n");
      }
      assert.ok(classes.has("small_vehicle") && classes.size > 1, [...classes].join());
      const out = `${dir}/r.json`;
      const r = await runTask("eval", [
        ...["--gt", GT, "--baseline", "obb-fill", "--max-images", String(IMAGES)],
        ...["--detections", dir, "--out-json", out],
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /no instance of small_vehicle was scored .*left out of the mean/);
      const report: EvalReport = JSON.parse(await Deno.readTextFile(out));
      const rows = report.summary.classes.map((c) => c.className);
      assert.deepEqual(rows, [...classes].sort());
      assert.equal(
        report.summary.classes.find((c) => c.className === "small_vehicle")!.instances,
        0,
      );
      const s = report.settings as Record<string, unknown>;
      assert.match(
        String(s.command),
        /^deno task eval --gt \S+annotations_all\.json\.gz --baseline obb-fill --max-images 12 --detections \S+ --out-json \S+r\.json$/,
      );
      assert.match(String(s.date), /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof s.sopseg_version, "string");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
