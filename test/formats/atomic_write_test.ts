import assert from "node:assert/strict";
import { writeFileAtomic } from "../../src/formats/atomic_write.ts";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sopseg_atomic_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("writeFileAtomic() writes text, bytes and chunks, leaving no temp file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/out.json`;
    await writeFileAtomic(path, "first\n");
    assert.equal(await Deno.readTextFile(path), "first\n");
    await writeFileAtomic(path, new TextEncoder().encode("second é\n"));
    assert.equal(await Deno.readTextFile(path), "second é\n");
    await writeFileAtomic(path, ["a", new Uint8Array([98]), "c"], { sync: false });
    assert.equal(await Deno.readTextFile(path), "abc");
    async function* pieces() {
      yield "x";
      await Promise.resolve();
      yield "y";
    }
    await writeFileAtomic(path, pieces());
    assert.equal(await Deno.readTextFile(path), "xy");
    await writeFileAtomic(`${dir}/empty.txt`, "");
    assert.equal(await Deno.readTextFile(`${dir}/empty.txt`), "");
    assert.deepEqual(await names(dir), ["empty.txt", "out.json"]);
  });
});

Deno.test("writeFileAtomic() keeps the old file and cleans up when writing fails", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/result.json`;
    await writeFileAtomic(path, "old content\n");
    function* failing() {
      yield "new content, part 1\n";
      throw new Error("the run was cancelled");
    }
    await assert.rejects(
      () => writeFileAtomic(path, failing()),
      (e: unknown) =>
        e instanceof Error &&
        e.message === `Cannot write "${path}": the run was cancelled` &&
        e.cause instanceof Error,
    );
    assert.equal(await Deno.readTextFile(path), "old content\n");
    assert.deepEqual(await names(dir), ["result.json"]);
  });
});

Deno.test("writeFileAtomic() fails cleanly when the target cannot be replaced", async () => {
  await withTempDir(async (dir) => {
    // Renaming a file over a non-empty directory fails after the data is written.
    await Deno.mkdir(`${dir}/target`);
    await Deno.writeTextFile(`${dir}/target/keep.txt`, "keep");
    await assert.rejects(
      () => writeFileAtomic(`${dir}/target`, "data"),
      (e: unknown) => e instanceof Error && e.message.startsWith(`Cannot write "${dir}/target": `),
    );
    assert.deepEqual(await names(dir), ["target"]);
    assert.equal(await Deno.readTextFile(`${dir}/target/keep.txt`), "keep");
    // A missing directory: nothing is created.
    await assert.rejects(() => writeFileAtomic(`${dir}/missing/out.json`, "data"), Error);
    assert.deepEqual(await names(dir), ["target"]);
    await assert.rejects(() => writeFileAtomic(`${dir}/`, "data"), TypeError);
  });
});
