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
    // A dangling link is left out, not an error.
    await Deno.symlink(`${dir}/all/gone.png`, `${dir}/split/images/gone.png`);
    const r = await runTask("segment", [
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
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /done: 2 masks on 1 image\(s\)/);
    assert.match(r.stderr, /split\/images\/gone\.png is a symbolic link to nothing; left out/);
    const fc = JSON.parse(await Deno.readTextFile(`${dir}/out/scene.geojson`));
    assert.equal(fc.features.length, 2);
    assert.ok(fc.features.every((f: { geometry: unknown }) => f.geometry !== null));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
