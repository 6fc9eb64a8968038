// mod.ts from a program outside this folder, as the README's Library section says to run it:
// with this folder's deno.json (its import map names the npm packages src/ imports).
import assert from "node:assert/strict";
import { fixture } from "../raster/_fixtures.ts";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("mod.ts runs from a program outside the repository with --config", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-library-" });
  try {
    const png = await fixture("rgb8.png");
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { segmentRun, SopsegModel } from "${root}mod.ts";
const model = await SopsegModel.load("${root}models/sopseg-lite", { backend: "wasm", threads: 1 });
const features: unknown[] = [];
const summary = await segmentRun(model, {
  images: ${JSON.stringify(png)},
  detections: { kind: "text", text: "100 100 140 100 140 120 100 120 car 0\\n", source: "<text>" },
  out: null,
  onFeature: (f) => features.push(f),
});
await model.close();
console.log(JSON.stringify({ instances: summary.instances, features: features.length }));
`,
    );
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${root}deno.json`, "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
    }).output();
    const dec = new TextDecoder();
    assert.equal(r.code, 0, dec.decode(r.stderr));
    assert.deepEqual(JSON.parse(dec.decode(r.stdout)), { instances: 1, features: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
