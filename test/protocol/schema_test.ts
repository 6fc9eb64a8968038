/**
 * docs/protocol.schema.json compiles and tells the worked examples of
 * docs/PROTOCOL.md from broken ones (no server needed).
 */
import assert from "node:assert/strict";
import { assertSchema } from "./_schema.ts";

const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));

type Example = { direction: "client" | "server"; message: unknown; line: string };

/**
 * Every line of a ```jsonl block in PROTOCOL.md, by its `-->`/`<--` direction
 * marker; a client line that is not JSON (the parse error example) has
 * `message` undefined.
 */
function examples(): Example[] {
  const out: Example[] = [];
  for (const block of doc.matchAll(/```jsonl\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      const m = /^(-->|<--) (.*)$/.exec(line);
      if (!m) continue;
      let message: unknown;
      try {
        message = JSON.parse(m[2]!);
      } catch {
        message = undefined;
      }
      out.push({ direction: m[1] === "-->" ? "client" : "server", message, line });
    }
  }
  return out;
}

Deno.test("protocol.schema.json accepts every worked example of PROTOCOL.md, and rejects those the server rejects", () => {
  const all = examples();
  assert.ok(all.length >= 20, `only ${all.length} examples found`);
  all.forEach((e, i) => {
    if (e.direction === "server") return assertSchema("ServerMessage", e.message);
    const answer = all[i + 1]?.direction === "server" ? all[i + 1]!.message : undefined;
    const code = (answer as { error?: { code?: number } } | undefined)?.error?.code;
    if (e.message === undefined) return assert.equal(code, -32700, e.line);
    if (code === -32600 || code === -32601 || code === -32602) {
      assert.throws(() => assertSchema("ClientMessage", e.message), /is not a valid/, e.line);
    } else {
      assertSchema("ClientMessage", e.message);
    }
  });
});

Deno.test("protocol.schema.json rejects malformed messages", () => {
  const bad: [string, unknown][] = [
    ["ClientMessage", { jsonrpc: "2.0", id: 1, method: "segment", params: { image: "a.png" } }],
    ["ClientMessage", {
      jsonrpc: "2.0",
      id: 1,
      method: "segment",
      params: { image: "a.png", detections: { boxes: [{ corners: [[0, 0]] }] } },
    }],
    ["ClientMessage", { jsonrpc: "2.0", method: "$/cancelRequest", params: {} }],
    // bands are 1 or 3 numbers, as the server takes them
    ["ClientMessage", {
      jsonrpc: "2.0",
      id: 1,
      method: "segment",
      params: { image: "a.png", detections: { path: "a.txt" }, options: { bands: [1, 2] } },
    }],
    // a box search's moves are a share of the long side, below 1, as the server takes them
    ["ClientMessage", {
      jsonrpc: "2.0",
      id: 1,
      method: "segment",
      params: {
        image: "a.png",
        detections: { path: "a.txt" },
        options: { box_search: { shift: 1.5, margin: 0 } },
      },
    }],
    ["ServerMessage", { jsonrpc: "2.0", id: 1, error: { code: -1, message: "x" } }],
    ["ServerMessage", { jsonrpc: "2.0", method: "$/progress", params: { id: 1, done: 1 } }],
    ["SegmentResponse", {
      jsonrpc: "2.0",
      id: 1,
      result: {
        type: "FeatureCollection",
        name: "a",
        "sopseg:coordinates": "pixel",
        features: [{ type: "Feature", geometry: null, properties: {} }],
      },
    }],
  ];
  for (const [def, message] of bad) {
    assert.throws(() => assertSchema(def, message), /is not a valid/, JSON.stringify(message));
  }
});

Deno.test("protocol.schema.json takes options.box_search as true, false or {shift, margin}", () => {
  for (const box_search of [true, false, { shift: 0.06, margin: 0.05 }]) {
    assertSchema("ClientMessage", {
      jsonrpc: "2.0",
      id: 1,
      method: "segment",
      params: { image: "a.png", detections: { path: "a.txt" }, options: { box_search } },
    });
  }
});
