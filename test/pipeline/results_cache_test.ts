/**
 * ResultsCache: the JSON-RPC server's memory of the last results files it
 * parsed. A hit must be the same unchanged read; anything that changes what
 * `readResults` would return (a file's content, a file added to a Task1
 * folder, the reading options) must read again, and a failed read is not kept.
 */
import assert from "node:assert/strict";
import { readResults, ResultsCache } from "../../src/pipeline/results_input.ts";

const LINE = (id: string, x: number) => `${id} 0.9 ${x} 10 ${x + 20} 10 ${x + 20} 20 ${x} 20\n`;

Deno.test("ResultsCache reuses an unchanged read and notices every change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-results-cache-" });
  try {
    const folder = `${dir}/task1`;
    await Deno.mkdir(folder);
    await Deno.writeTextFile(`${folder}/Task1_ship.txt`, LINE("A", 10) + LINE("B", 40));
    const cache = new ResultsCache(2);
    const first = await cache.read(folder);
    assert.deepEqual(first, await readResults(folder));
    assert.equal(await cache.read(folder), first, "an unchanged folder is parsed once");

    // a file edited in place (another size)
    await Deno.writeTextFile(`${folder}/Task1_ship.txt`, LINE("A", 10));
    const edited = await cache.read(folder);
    assert.notEqual(edited, first);
    assert.equal(edited!.byImage.get("B"), undefined);

    // the same size, a later modification time
    await Deno.writeTextFile(`${folder}/Task1_ship.txt`, LINE("C", 10));
    await Deno.utime(`${folder}/Task1_ship.txt`, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual([...(await cache.read(folder))!.byImage.keys()], ["C"]);

    // a file added to the folder
    await Deno.writeTextFile(`${folder}/Task1_plane.txt`, LINE("C", 60));
    assert.equal((await cache.read(folder))!.byImage.get("C")!.length, 2);

    // other reading options are another entry: a file of Task1 read as task1, then as dota
    const file = `${folder}/Task1_plane.txt`;
    assert.equal((await cache.read(file, { format: "task1" }))!.format, "task1");
    assert.equal(await cache.read(file, { format: "dota" }), null);

    // a read that fails is not kept: the fixed file is read
    const json = `${dir}/r.bbox.json`;
    await Deno.writeTextFile(json, "[{");
    await assert.rejects(cache.read(json, { format: "mmrotate-json" }), /not JSON/);
    await Deno.writeTextFile(
      json,
      JSON.stringify([{
        image_id: "A",
        bbox: [10, 10, 30, 10, 30, 20, 10, 20],
        score: 0.5,
        category_id: 0,
      }]),
    );
    assert.equal(
      (await cache.read(json, { format: "mmrotate-json" }))!.byImage.get("A")!.length,
      1,
    );

    // one entry kept by default: the other results replace it
    const small = new ResultsCache();
    const a = await small.read(folder);
    await small.read(json, { format: "mmrotate-json" });
    assert.notEqual(await small.read(folder), a);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readResults() minScore keeps what a run would keep, for Task1 and mmrotate JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-results-min-" });
  try {
    await Deno.writeTextFile(
      `${dir}/Task1_ship.txt`,
      "A 0.9 10 10 30 10 30 20 10 20\nA 0.2 40 40 60 40 60 50 40 50\nB 0.1 5 5 9 5 9 7 5 7\n",
    );
    const task1 = (await readResults(dir, { minScore: 0.5 }))!;
    assert.deepEqual([...task1.byImage].map(([id, l]) => [id, l.map((d) => d.score)]), [
      ["A", [0.9]],
      ["B", []], // still an image id of the results (for the warnings about ids no image has)
    ]);
    const json = `${dir}/r.bbox.json`;
    const box = [10, 10, 30, 10, 30, 20, 10, 20];
    await Deno.writeTextFile(
      json,
      JSON.stringify([
        { image_id: "A", bbox: box, score: 0.9, category_id: 0 },
        { image_id: "A", bbox: box, score: 0.3, category_id: 0 },
        { image_id: "B", bbox: box, score: 0.3, category_id: 0 },
      ]),
    );
    const mm = (await readResults(json, { minScore: 0.5 }))!;
    assert.deepEqual([...mm.byImage].map(([id, l]) => [id, l.map((d) => d.score)]), [
      ["A", [0.9]],
      ["B", []],
    ]);
    // the cache keeps a read per threshold
    const cache = new ResultsCache(2);
    assert.equal((await cache.read(json, { minScore: 0.5 }))!.byImage.get("A")!.length, 1);
    assert.equal((await cache.read(json))!.byImage.get("A")!.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
