import assert from "node:assert/strict";
import { parseManifest } from "../../src/model/manifest.ts";

const probe = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/attention_probe/manifest.json", import.meta.url)),
);

Deno.test("parseManifest() accepts the contract's manifest", () => {
  const m = parseManifest(probe, "dir");
  assert.equal(m.inputSize, 256);
  assert.deepEqual(m.ram, { m: 32, k0: 2, sMax: 1024, sMin: 8 });
  assert.equal(m.encoder.file, "encoder.onnx");
});

Deno.test("parseManifest() names the bad field and the file", () => {
  // deno-lint-ignore no-explicit-any
  const cases: [(m: any) => void, RegExp][] = [
    [(m) => (m.format = "onnx"), /dir\/manifest.json: field "format"/],
    [(m) => (m.format_version = 2), /format_version 2 is not supported/],
    [(m) => (m.input_size = 250), /"input_size" must be a positive multiple of 16/],
    [(m) => (m.std = [1, 2]), /"std" must be an array of 3 numbers/],
    [(m) => delete m.decoder.inputs.point_labels, /"decoder.inputs" lacks tensor "point_labels"/],
    [(m) => (m.encoder.file = "../x.onnx"), /"encoder.file" must be a file name inside/],
    [(m) => (m.ram.m = "32"), /"ram.m" must be a finite number/],
  ];
  for (const [mutate, pattern] of cases) {
    const m = structuredClone(probe);
    mutate(m);
    assert.throws(() => parseManifest(m, "dir"), pattern);
  }
});
