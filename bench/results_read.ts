/**
 * Reading a detector's results for a whole dataset: a synthetic DOTA Task1
 * folder (15 class files, `--lines` lines each, scores spread evenly over
 * 0.00-0.96, 900 image ids), read with `readResults` at each `--min-score`
 * (each in its own process, so one reading's heap does not count in the
 * next), then twice through a `ResultsCache` (the JSON-RPC server's). Prints
 * seconds, detections kept and the heap they hold after a collection.
 *
 *     deno run -A bench/results_read.ts [--lines 60000] [--min-score none,0.3,0.5]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { readResults, ResultsCache } from "../src/pipeline/results_input.ts";

const { values } = parseArgs({
  options: {
    lines: { type: "string", default: "60000" },
    "min-score": { type: "string", default: "none,0.3,0.5" },
    // internal: read `dir` once at this min score and print what it holds
    one: { type: "string" },
    dir: { type: "string" },
  },
});

if (values.one !== undefined) {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const minScore = values.one === "none" ? undefined : Number(values.one);
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const start = performance.now();
  const results = await readResults(values.dir!, { minScore });
  const seconds = (performance.now() - start) / 1000;
  gc();
  const held = (Deno.memoryUsage().heapUsed - before) / 1e6;
  const kept = [...results!.byImage.values()].reduce((n, l) => n + l.length, 0);
  console.log(
    `min score ${values.one}: ${kept} detections kept, ${held.toFixed(0)} MB held, read in ${
      seconds.toFixed(1)
    } s`,
  );
} else {
  const lines = Number(values.lines);
  const dir = await Deno.makeTempDir({ prefix: "sopseg-results-read-" });
  try {
    for (let c = 0; c < 15; c++) {
      const out: string[] = [];
      for (let i = 0; i < lines; i++) {
        const x = (i * 7) % 1000, y = (i * 13) % 1000;
        const id = `P${String(i % 900).padStart(4, "0")}`;
        out.push(`${id} 0.${i % 97} ${x} ${y} ${x + 30} ${y} ${x + 30} ${y + 12} ${x} ${y + 12}`);
      }
      await Deno.writeTextFile(`${dir}/Task1_c${c}.txt`, out.join("\n") + "\n");
    }
    console.log(`${15 * lines} Task1 lines in 15 files`);
    for (const m of values["min-score"]!.split(",")) {
      const args = ["run", "-A", "--v8-flags=--expose-gc", new URL(import.meta.url).pathname];
      const child = new Deno.Command(Deno.execPath(), {
        args: [...args, "--one", m, "--dir", dir],
        stdout: "inherit",
        stderr: "inherit",
      });
      if (!(await child.output()).success) throw new Error(`the reading at ${m} failed`);
    }
    const cache = new ResultsCache();
    for (const what of ["first read", "cache hit"]) {
      const start = performance.now();
      await cache.read(dir);
      console.log(`ResultsCache, ${what}: ${(performance.now() - start).toFixed(0)} ms`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
