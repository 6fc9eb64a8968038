import assert from "node:assert/strict";
import { graphSets, parseManifest } from "../../src/model/manifest.ts";
import { cropFor } from "../../src/pipeline/segment_image.ts";

const probe = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/attention_probe/manifest.json", import.meta.url)),
);

Deno.test("parseManifest() accepts the contract's manifest", () => {
  const m = parseManifest(probe, "dir");
  assert.equal(m.inputSize, 256);
  assert.deepEqual(m.ram, { m: 32, k0: 2, sMax: 1024, sMin: 8 });
  assert.equal(m.encoder.file, "encoder.onnx");
});

Deno.test("parseManifest() reads the optional ram.context and the crops follow it", () => {
  const raw = structuredClone(probe);
  raw.ram.context = 1.3;
  const m = parseManifest(raw, "dir");
  assert.equal(m.ram.context, 1.3);
  // a 200 x 100 box: 260 px with context 1.3, 227 px by METHOD.md's law alone
  const box = { cx: 300, cy: 300, width: 200, height: 100, angle: 0 };
  assert.equal(cropFor(box, "ram", m.ram).size, 260);
  assert.equal(Math.round(cropFor(box, "ram", parseManifest(probe, "dir").ram).size), 227);
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
    [(m) => (m.ram.context = 0.9), /"ram.context" must be >= 1/],
    [(m) => (m.classes = "ship"), /"classes" must be an array/],
    [(m) => (m.classes = [{ aliases: [] }]), /"classes\[0\].name" must be a non-empty string/],
    [(m) => (m.classes = [{ name: "ship", aliases: "boat" }]), /"classes\[0\].aliases"/],
    [(m) => (m.wasm_graphs = "x.ort"), /"wasm_graphs" must be an object/],
    [
      (m) => (m.wasm_graphs = { encoder: "../e.ort", decoder: "d.ort", made_from_sha256: {} }),
      /"wasm_graphs.encoder" must be a file name inside/,
    ],
    [
      (m) => (m.wasm_graphs = { encoder: "e.ort", decoder: "d.ort", made_from_sha256: { a: 1 } }),
      /"wasm_graphs.made_from_sha256" must map file names to SHA-256/,
    ],
  ];
  for (const [mutate, pattern] of cases) {
    const m = structuredClone(probe);
    mutate(m);
    assert.throws(() => parseManifest(m, "dir"), pattern);
  }
});

/** The probe manifest with small graphs at `n` (same graphs, shapes for `n`). */
// deno-lint-ignore no-explicit-any
function withSmallGraphs(n: number): any {
  const m = structuredClone(probe);
  const small = {
    input_size: n,
    max_crop_side: n,
    encoder: structuredClone(m.encoder),
    decoder: structuredClone(m.decoder),
  };
  small.encoder.file = `encoder_${n}.onnx`;
  small.decoder.file = `decoder_${n}.onnx`;
  small.encoder.inputs.image = [-1, 3, n, n];
  small.decoder.inputs.image = [-1, 3, n, n];
  m.small_graphs = small;
  return m;
}

Deno.test("parseManifest() reads small graphs; graphSets() lists the main set first", () => {
  assert.equal(parseManifest(probe, "dir").smallGraphs, null);
  const m = parseManifest(withSmallGraphs(160), "dir");
  assert.equal(m.smallGraphs?.inputSize, 160);
  assert.equal(m.smallGraphs?.maxCropSide, 160);
  assert.equal(m.smallGraphs?.decoder.file, "decoder_160.onnx");
  assert.equal(m.smallGraphs?.wasmGraphs, null);
  assert.equal(m.smallGraphs?.byDefault, false, "opt-in unless the manifest says default");
  assert.deepEqual(graphSets(m).map((s) => s.inputSize), [256, 160]);
  const on = withSmallGraphs(160);
  on.small_graphs.default = true;
  assert.equal(parseManifest(on, "dir").smallGraphs?.byDefault, true);
});

Deno.test("parseManifest() names the bad small_graphs field", () => {
  // deno-lint-ignore no-explicit-any
  const cases: [(m: any) => void, RegExp][] = [
    [(m) => (m.small_graphs = [1]), /field "small_graphs" must be an object/],
    [(m) => (m.small_graphs.input_size = 150), /"small_graphs.input_size" must be a positive/],
    [
      (m) => (m.small_graphs = withSmallGraphs(256).small_graphs),
      /"small_graphs.input_size" \(256\) must be under/,
    ],
    [(m) => delete m.small_graphs.max_crop_side, /"small_graphs.max_crop_side" must be a finite/],
    [(m) => (m.small_graphs.max_crop_side = 0), /"small_graphs.max_crop_side" must be positive/],
    [(m) => delete m.small_graphs.decoder, /field "small_graphs.decoder" is missing/],
    [
      (m) => (m.small_graphs.encoder.inputs.image = [-1, 3, 256, 256]),
      /small_graphs.encoder input "image" must be \[-1, 3, 160, 160\]/,
    ],
    [(m) => (m.small_graphs.decoder.file = "decoder.onnx"), /must name other graph files/],
    [(m) => (m.small_graphs.default = "yes"), /"small_graphs.default" must be true or false/],
    [
      (
        m,
      ) => (m.small_graphs.wasm_graphs = {
        encoder: "e.ort",
        decoder: "../d.ort",
        made_from_sha256: {},
      }),
      /"small_graphs.wasm_graphs.decoder" must be a file name inside/,
    ],
  ];
  for (const [mutate, pattern] of cases) {
    const m = withSmallGraphs(160);
    mutate(m);
    assert.throws(() => parseManifest(m, "dir"), pattern);
  }
});

Deno.test("parseManifest() reads the training classes, normalised; none stated is null", () => {
  assert.equal(parseManifest(probe, "dir").classes, null);
  const m = parseManifest(
    { ...probe, classes: [{ id: 9, name: "Small-Vehicle", aliases: ["Car"] }] },
    "dir",
  );
  assert.deepEqual(m.classes, [{ name: "small_vehicle", aliases: ["car"], id: 9 }]);
  assert.equal(m.classPrompt, null);
});

/** The probe manifest with a class prompt of `size` and the given classes. */
// deno-lint-ignore no-explicit-any
function withClassPrompt(size: number, classes: any[]) {
  const m = structuredClone(probe);
  m.decoder.inputs.class_onehot = [-1, size];
  m.class_prompt = { input: "class_onehot", size, unknown_index: 0 };
  m.classes = classes;
  return m;
}

Deno.test("parseManifest() reads a class prompt and checks it against the decoder and the classes", () => {
  const ok = parseManifest(withClassPrompt(16, [{ id: 9, name: "small_vehicle" }]), "dir");
  assert.deepEqual(ok.classPrompt, { input: "class_onehot", size: 16, unknownIndex: 0 });
  // deno-lint-ignore no-explicit-any
  const cases: [(m: any) => void, RegExp][] = [
    [
      (m) => (m.decoder.inputs.class_onehot = [-1, 15]),
      /decoder input "class_onehot" must be \[-1, 16\]/,
    ],
    [(m) => delete m.decoder.inputs.class_onehot, /decoder input "class_onehot" must be/],
    [
      (m) => (m.class_prompt.unknown_index = 16),
      /"class_prompt.unknown_index" must be in \[0, 16\)/,
    ],
    [(m) => (m.class_prompt.input = ""), /"class_prompt.input" must be a decoder input name/],
    [
      (m) => (m.classes = [{ id: 0, name: "ship" }]),
      /class "ship" needs an id in \[0, 16\) other than the unknown index/,
    ],
    [(m) => (m.classes = [{ name: "ship" }]), /class "ship" needs an id/],
    [
      (m) => (m.classes = [{ id: 1.5, name: "ship" }]),
      /"classes\[0\].id" must be a non-negative integer/,
    ],
  ];
  for (const [mutate, pattern] of cases) {
    const m = withClassPrompt(16, [{ id: 9, name: "small_vehicle" }]);
    mutate(m);
    assert.throws(() => parseManifest(m, "dir"), pattern);
  }
});

Deno.test("the shipped model's manifest lists its training classes with DOTA's names matching", async () => {
  const { loadManifest } = await import("../../src/model/manifest.ts");
  const { TrainingClasses } = await import("../../src/model/model_classes.ts");
  const m = await loadManifest(new URL("../../models/sopseg-lite", import.meta.url).pathname);
  assert.ok(m.classes && m.classes.length >= 7);
  const classes = new TrainingClasses(m.classes);
  for (const dota of ["small-vehicle", "large-vehicle", "ship", "plane", "storage-tank"]) {
    assert.ok(classes.has(dota), dota);
  }
  assert.equal(classes.canonical("Small_Vehicle"), "small_vehicle");
  assert.equal(classes.canonical("airplane"), "plane");
  assert.equal(classes.has("container-crane"), false);
});
