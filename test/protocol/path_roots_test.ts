/**
 * PathRoots: what a server request may read and write. A symbolic link in a
 * write root must not lead an output elsewhere (Deno's --allow-write checks
 * the path as given, so this check is the only one); reads follow links, as
 * dataset folders of links need.
 */
import assert from "node:assert/strict";
import { PathRoots } from "../../src/protocol/path_roots.ts";
import { RpcError } from "../../src/protocol/errors.ts";

Deno.test("PathRoots.checkWrite refuses a path that a symbolic link leads out of the write roots", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "sopseg-roots-" }));
  try {
    await Deno.mkdir(`${dir}/out/inside`, { recursive: true });
    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.symlink(`${dir}/elsewhere`, `${dir}/out/evil`);
    await Deno.symlink(`${dir}/out/inside`, `${dir}/out/alias`);
    const roots = new PathRoots({ read: [], write: [`${dir}/out`] });

    for (const path of [`${dir}/out/evil/a.geojson`, `${dir}/out/evil/new/sub/a.geojson`]) {
      assert.throws(
        () => roots.checkWrite(path, "out"),
        (e: unknown) =>
          e instanceof RpcError && e.code === -32004 &&
          e.message.includes(`a symbolic link on the way leads to ${dir}/elsewhere/`) &&
          (e.data as { field: string }).field === "out",
        path,
      );
    }
    // links that stay inside, and paths not made yet, are fine
    assert.equal(
      roots.checkWrite(`${dir}/out/alias/a.geojson`, "out"),
      `${dir}/out/alias/a.geojson`,
    );
    assert.equal(roots.checkWrite(`${dir}/out/new/a.geojson`, "out"), `${dir}/out/new/a.geojson`);
    // reads follow links (dataset splits are folders of links)
    const reader = new PathRoots({ read: [`${dir}/out`], write: [] });
    assert.equal(reader.checkRead(`${dir}/out/evil/x.png`, "image"), `${dir}/out/evil/x.png`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
