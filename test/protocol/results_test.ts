/**
 * Detector result files through the JSON-RPC server (a real `deno task serve`
 * process, the shipped model on WASM): DOTA Task1 folders and mmrotate JSON
 * hold many images' detections, and a request segments its image's share.
 * The same boxes give the same masks as the image's labelTxt.
 */
import assert from "node:assert/strict";
import { assertSchema } from "./_schema.ts";
import { DATA, dataTest, type Message, P1888, Server } from "./_server.ts";
import { parseDota } from "../../src/formats/dota.ts";

/** The features' masks as a sorted list of `class geometry` strings (order-free). */
function masks(m: Message): string[] {
  assertSchema("SegmentResponse", m);
  return (m.result.features as Message[])
    .map((f) => `${f.properties.class} ${JSON.stringify(f.geometry)}`)
    .sort();
}

function assertError(m: Message, code: number, pattern: RegExp): void {
  assert.equal(m.error?.code, code, JSON.stringify(m));
  assert.match(m.error.message, pattern);
  assertSchema("ErrorResponse", m);
}

dataTest("serve reads an image's share of DOTA Task1 and mmrotate JSON results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sopseg-results-" });
  const server = Server.start(["--read", DATA, "--read", dir]);
  try {
    const { detections } = parseDota(await Deno.readTextFile(P1888.labels), {
      source: P1888.labels,
    });
    const names = [...new Set(detections.map((d) => d.className))].sort();
    const corners = (i: number) => detections[i]!.corners!.flatMap((p) => [p.x, p.y]);
    const score = (i: number) => 0.5 + i / 1000;

    // Task1: one file per class; another image's lines too, which this request leaves out.
    const task1 = `${dir}/task1`;
    await Deno.mkdir(task1);
    for (const name of names) {
      const lines = detections.flatMap((d, i) =>
        d.className === name ? [`P1888 ${score(i)} ${corners(i).join(" ")}`] : []
      );
      lines.push(`P0706 0.9 10 10 30 10 30 20 10 20`);
      await Deno.writeTextFile(`${task1}/Task1_${name}.txt`, lines.join("\n") + "\n");
    }
    // mmrotate JSON with corners (8 numbers), and with le90 boxes
    const records = (id: string, bbox: (i: number) => number[]) =>
      JSON.stringify(detections.map((d, i) => ({
        image_id: id,
        bbox: bbox(i),
        score: score(i),
        category_id: names.indexOf(d.className),
      })));
    const qbox = `${dir}/qbox.bbox.json`;
    await Deno.writeTextFile(qbox, records("P1888", corners));
    const le90 = `${dir}/le90.bbox.json`;
    await Deno.writeTextFile(
      le90,
      records("P1888", (i) => {
        const b = detections[i]!.box;
        const long = b.width >= b.height;
        const a = long ? b.angle : b.angle + Math.PI / 2;
        const wrapped = a - Math.PI * Math.floor((a + Math.PI / 2) / Math.PI);
        return long
          ? [b.cx, b.cy, b.width, b.height, wrapped]
          : [b.cx, b.cy, b.height, b.width, wrapped];
      }),
    );

    const reference = masks(
      await server.call("segment", { image: P1888.image, detections: { path: P1888.labels } }),
    );
    assert.equal(reference.length, 64);

    // a Task1 folder (auto-detected), and one Task1 file of it (only its class)
    const folder = await server.call("segment", {
      image: P1888.image,
      detections: { path: task1 },
    });
    assert.deepEqual(masks(folder), reference);
    const one = names[0]!;
    const file = await server.call("segment", {
      image: P1888.image,
      detections: { path: `${task1}/Task1_${one}.txt`, format: "task1" },
    });
    assert.deepEqual(masks(file), reference.filter((m) => m.startsWith(`${one} `)));
    // the server keeps the folder parsed; a file edited in place is read again
    await Deno.writeTextFile(`${task1}/Task1_${one}.txt`, "P0706 0.9 10 10 30 10 30 20 10 20\n");
    const edited = await server.call("segment", {
      image: P1888.image,
      detections: { path: task1 },
    });
    assert.deepEqual(masks(edited), reference.filter((m) => !m.startsWith(`${one} `)));

    // mmrotate JSON: corners need no convention; le90 boxes do; min_score leaves some out
    const classes = names;
    const fromQbox = await server.call("segment", {
      image: P1888.image,
      detections: { path: qbox, classes },
    });
    assert.deepEqual(masks(fromQbox), reference);
    const fromLe90 = await server.call("segment", {
      image: P1888.image,
      detections: { path: le90, format: "mmrotate-json", angle_convention: "le90", classes },
    });
    assert.deepEqual(masks(fromLe90), reference);
    const kept = detections.filter((_, i) => score(i) >= 0.53).length;
    assert.ok(kept > 0 && kept < 64);
    const scored = await server.call("segment", {
      image: P1888.image,
      detections: { path: qbox, classes, min_score: 0.53 },
    });
    assert.equal(scored.result.features.length, kept);
    assert.ok(scored.result.features.every((f: Message) => f.properties.score >= 0.53));
    // as text (auto-detected: a JSON array)
    const asText = await server.call("segment", {
      image: P1888.image,
      detections: { text: await Deno.readTextFile(qbox), classes },
    });
    assert.deepEqual(masks(asText), reference);

    // image_id: results under another name; without it, no record names this image
    const renamed = `${dir}/renamed.bbox.json`;
    await Deno.writeTextFile(renamed, records("scene_42", corners));
    const byId = await server.call("segment", {
      image: P1888.image,
      detections: { path: renamed, classes, image_id: "scene_42" },
    });
    assert.deepEqual(masks(byId), reference);
    const none = await server.call("segment", {
      image: P1888.image,
      detections: { path: renamed, classes },
    });
    assert.deepEqual(none.result.features, []);

    // Refusals, each naming what to fix.
    const noConvention = await server.call("segment", {
      image: P1888.image,
      detections: { path: le90, classes },
    });
    assertError(noConvention, -32602, /detections\.angle_convention is required: .*le90/);
    assert.equal(noConvention.error.data.field, "detections.angle_convention");
    const patches = `${dir}/patches.bbox.json`;
    await Deno.writeTextFile(patches, records("P1888__1024__0___0", corners));
    assertError(
      await server.call("segment", { image: P1888.image, detections: { path: patches } }),
      -32003,
      /no detections of image P1888, but 1 patch id\(s\) of it \(P1888__1024__0___0\)/,
    );
    await Deno.writeTextFile(`${task1}/Task1_zz-broken.txt`, "P1888 0.5 1 2 3\n");
    const broken = await server.call("segment", {
      image: P1888.image,
      detections: { path: task1 },
    });
    assertError(broken, -32003, /Task1_zz-broken\.txt: line 1: .*expected 10 fields/);
    assert.equal(broken.error.data.kind, "detections-malformed");
    assert.equal(broken.error.data.issues[0].line, 1);
    const notJson = `${dir}/bad.bbox.json`;
    await Deno.writeTextFile(notJson, "[{");
    assertError(
      await server.call("segment", {
        image: P1888.image,
        detections: { path: notJson, format: "mmrotate-json" },
      }),
      -32003,
      /bad\.bbox\.json.*not JSON/,
    );
    const textTask1 = await server.call("segment", {
      image: P1888.image,
      detections: { text: "P1888 0.5 1 1 5 1 5 5 1 5", format: "task1" },
    });
    assertError(textTask1, -32602, /detections\.format task1 is read from a path/);
    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    assertError(
      await server.call("segment", {
        image: P1888.image,
        detections: { path: empty, format: "task1" },
      }),
      -32003,
      /no Task1_<class>\.txt files in .*empty/,
    );
    assertError(
      await server.call("segment", {
        image: P1888.image,
        detections: { path: `${dir}/missing.bbox.json`, format: "mmrotate-json" },
      }),
      -32002,
      /missing\.bbox\.json: no such file/,
    );
    await server.closeStdin();
    assert.equal((await server.wait()).code, 0);
  } catch (e) {
    await server.kill();
    throw new Error(
      `${(e as Error).message}\n--- server stderr ---\n${await server.stderrText()}`,
      {
        cause: e,
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
