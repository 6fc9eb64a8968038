// Folders of symlinks (how dataset splits are made) through the permission-scoped launcher.
import assert from "node:assert/strict";
import { runTask } from "./_run_cli.ts";
import { fixture } from "../raster/_fixtures.ts";

const BOXES = "100 100 140 100 140 120 100 120 car 0\n300 200 360 230 350 250 290 220 ship 0\n";

Deno.test("segment finds symlinked images and detection files in folders", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The real files live outside the folders given to the CLI.
    await Deno.mkdir(`${dir}/all`);
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/all/scene.png`);
    await Deno.writeTextFile(`${dir}/all/scene.txt`, BOXES);
    await Deno.mkdir(`${dir}/split/images`, { recursive: true });
    await Deno.mkdir(`${dir}/split/labels`);
    await Deno.symlink(`${dir}/all/scene.png`, `${dir}/split/images/scene.png`);
    await Deno.symlink("../../all/scene.txt", `${dir}/split/labels/scene.txt`);
    // A link to nothing (a volume mounted late) is a failed image: exit 1, a retry finds it.
    await Deno.symlink(`${dir}/all/gone.png`, `${dir}/split/images/gone.png`);
    await Deno.symlink(`${dir}/all/gone.txt`, `${dir}/split/labels/gone.txt`);
    const args = [
      "--images",
      `${dir}/split/images`,
      "--detections",
      `${dir}/split/labels`,
      "--out",
      `${dir}/out`,
      "--backend",
      "wasm",
      "--threads",
      "1",
    ];
    const r = await runTask("segment", args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /done: 2 masks on 1 image\(s\).*, 1 failed \(.*gone\.png\)/);
    assert.match(
      r.stderr,
      /error: .*split\/images\/gone\.png: .*it is a symbolic link to nothing \(.*all\/gone\.png: a volume not mounted yet\?\)/,
    );
    const fc = JSON.parse(await Deno.readTextFile(`${dir}/out/scene.geojson`));
    assert.equal(fc.features.length, 2);
    assert.ok(fc.features.every((f: { geometry: unknown }) => f.geometry !== null));
    const record = JSON.parse(await Deno.readTextFile(`${dir}/out/sopseg-run.json`));
    assert.equal(record.state, "incomplete");
    assert.deepEqual(record.failed, ["gone.png"]);
    // the image is there, its labels' link still leads nowhere: the labels fail it
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/all/gone.png`);
    const half = await runTask("segment", [...args, "--resume"]);
    assert.equal(half.code, 1, half.stderr);
    assert.match(half.stderr, /split\/labels\/gone\.txt: it is a symbolic link to nothing/);
    // both mounted: the retry segments it, and the run is done
    await Deno.writeTextFile(`${dir}/all/gone.txt`, BOXES);
    const retry = await runTask("segment", [...args, "--resume"]);
    assert.equal(retry.code, 0, retry.stderr);
    assert.match(retry.stderr, /done: 2 masks on 1 image\(s\).*, 1 skipped/);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/out/sopseg-run.json`)).state, "done");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("segment: every image link broken is exit 1, not 'no images'; a loop of links is left out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/images`);
    await Deno.mkdir(`${dir}/labels`);
    await Deno.symlink("/mnt/surely-not-mounted/a.png", `${dir}/images/a.png`);
    await Deno.writeTextFile(`${dir}/labels/a.txt`, BOXES);
    const args = (out: string) => [
      "--images",
      `${dir}/images`,
      "--detections",
      `${dir}/labels`,
      "--out",
      `${dir}/${out}`,
      "--backend",
      "wasm",
      "--threads",
      "1",
    ];
    const broken = await runTask("segment", args("o1"));
    assert.equal(broken.code, 1, broken.stderr);
    assert.doesNotMatch(broken.stderr, /no images/);
    assert.match(broken.stderr, /done: 0 masks on 0 image\(s\).*, 1 failed \(.*a\.png\)/);
    // l1 -> l2 -> l1: left out with a warning naming it, the others segmented; a retry will
    // not mend it (exit 2), and the record names it
    await Deno.symlink("l2.png", `${dir}/images/l1.png`);
    await Deno.symlink("l1.png", `${dir}/images/l2.png`);
    await Deno.remove(`${dir}/images/a.png`);
    await Deno.copyFile(await fixture("rgb8.png"), `${dir}/images/a.png`);
    const loop = await runTask("segment", args("o2"));
    assert.equal(loop.code, 2, loop.stderr);
    assert.match(
      loop.stderr,
      /warning: .*images\/l1\.png is a symbolic link in a loop of links; left out/,
    );
    assert.match(loop.stderr, /done: 2 masks on 1 image\(s\).*, 2 input file\(s\) left out/);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/o2/sopseg-run.json`));
    assert.equal(record.state, "done");
    assert.deepEqual(record.left_out.map((l: { files: string[] }) => l.files), [
      ["l1.png"],
      ["l2.png"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
