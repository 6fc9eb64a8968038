import assert from "node:assert/strict";
import { parseEvalArgs, parsePromptNoise } from "../../src/cli/eval_args.ts";
import { perturbBox } from "../../src/eval/prompt_noise.ts";

Deno.test("parseEvalArgs() reads a model run with ablations and outputs", () => {
  const a = parseEvalArgs([
    "--gt",
    "val/annotations.json.gz",
    "--images",
    "val/images",
    "--classes",
    "airplane, vehicle",
    "--no-ram",
    "--box-only",
    "--prompt-noise",
    "shift=0.2,seed=3",
    "--max-images",
    "10",
    "--out-json",
    "r.json",
    "--out-md",
    "r.md",
    "--out-coco",
    "r.coco.json",
  ]);
  assert.equal(a.gt, "val/annotations.json.gz");
  assert.equal(a.images, "val/images");
  assert.deepEqual(a.classes, ["airplane", "vehicle"]);
  assert.equal(a.noRam, true);
  assert.equal(a.boxOnly, true);
  assert.deepEqual(a.promptNoise, { shift: 0.2, scale: 0.1, angle: 5, seed: 3 });
  assert.equal(a.maxImages, 10);
  assert.equal(a.baseline, null);
  assert.equal(a.dilationRatio, 0.005);
  assert.deepEqual([a.outJson, a.outMd, a.outCoco], ["r.json", "r.md", "r.coco.json"]);
});

Deno.test("parseEvalArgs() needs --gt, and --images unless a baseline is scored", () => {
  assert.throws(() => parseEvalArgs(["--images", "x"]), TypeError);
  assert.throws(() => parseEvalArgs(["--gt", "a.json"]), /--images is required/);
  assert.equal(parseEvalArgs(["--gt", "a.json", "--baseline", "hbox-fill"]).images, null);
});

Deno.test("parseEvalArgs() rejects unknown flags, baselines and model switches with a baseline", () => {
  assert.throws(() => parseEvalArgs(["--gt", "a", "--bogus"]), TypeError);
  assert.throws(
    () => parseEvalArgs(["--gt", "a", "--baseline", "mask"]),
    /baselines: hbox-fill, obb-fill/,
  );
  assert.throws(
    () => parseEvalArgs(["--gt", "a", "--baseline", "obb-fill", "--no-ram"]),
    TypeError,
  );
  assert.throws(
    () => parseEvalArgs(["--gt", "a", "--images", "i", "--max-images", "0"]),
    RangeError,
  );
});

Deno.test("parsePromptNoise() takes defaults and rejects unknown keys", () => {
  assert.deepEqual(parsePromptNoise("default"), {
    shift: 0.1,
    scale: 0.1,
    angle: 5,
    seed: 0,
    preset: "default",
  });
  // the preset is named, and draws what the pairs with the defaults draw
  const box = { cx: 50, cy: 40, width: 30, height: 12, angle: 0.3 };
  for (const key of [1, 2, 3]) {
    assert.deepEqual(
      perturbBox(box, key, parsePromptNoise("default")),
      perturbBox(box, key, parsePromptNoise("shift=0.1")),
    );
  }
  assert.throws(() => parsePromptNoise("wobble=1"), /unknown key "wobble" \(keys: shift, scale/);
  assert.throws(() => parsePromptNoise("shift=x"), /shift x is not a number >= 0/);
  assert.throws(() => parsePromptNoise("scale=1"), /scale 1 is not a number in \[0, 1\)/);
  assert.throws(() => parsePromptNoise("seed=1.5"), /seed 1\.5 is not an integer/);
});

Deno.test("parsePromptNoise() takes presets with a seed and rejects unknown names", () => {
  assert.deepEqual(parsePromptNoise("heavy"), {
    kind: "gaussian",
    shift: 0.08,
    scale: 0.15,
    angle: 4,
    seed: 0,
    preset: "heavy",
  });
  assert.deepEqual(parsePromptNoise("default,seed=2"), {
    shift: 0.1,
    scale: 0.1,
    angle: 5,
    seed: 2,
    preset: "default",
  });
  assert.throws(() => parsePromptNoise("stormy"), /unknown preset .*heavy/);
  assert.throws(() => parsePromptNoise("heavy,shift=0.2"), /only seed=N/);
});

Deno.test("parseEvalArgs() --small-graphs on|off|N, unset: the model's default", () => {
  const base = ["--gt", "a", "--images", "i"];
  assert.equal(parseEvalArgs(base).smallGraphs, undefined);
  assert.equal(parseEvalArgs([...base, "--small-graphs", "on"]).smallGraphs, true);
  assert.equal(parseEvalArgs([...base, "--small-graphs", "off"]).smallGraphs, false);
  assert.equal(parseEvalArgs([...base, "--small-graphs", "64"]).smallGraphs, 64);
  for (const bad of ["yes", "0", "64px"]) {
    assert.throws(
      () => parseEvalArgs([...base, "--small-graphs", bad]),
      new RegExp(`--small-graphs must be on, off or a crop side in pixels \\(> 0\\), got "${bad}"`),
    );
  }
  assert.throws(() => parseEvalArgs([...base, "--small-graphs"]), TypeError);
  assert.throws(
    () => parseEvalArgs(["--gt", "a", "--baseline", "obb-fill", "--small-graphs", "off"]),
    /need the model, not --baseline/,
  );
});

Deno.test("parseEvalArgs() --refine-passes: an integer >= 1, 0 when unset, model runs only", () => {
  const base = ["--gt", "a", "--images", "i"];
  assert.equal(parseEvalArgs(base).refinePasses, 0);
  assert.equal(parseEvalArgs([...base, "--refine-passes", "2"]).refinePasses, 2);
  assert.throws(() => parseEvalArgs([...base, "--refine-passes", "0"]), /integer >= 1/);
  assert.throws(
    () => parseEvalArgs(["--gt", "a", "--baseline", "obb-fill", "--refine-passes", "1"]),
    /need the model, not --baseline/,
  );
});

Deno.test("parseEvalArgs() reads --detections and its options, and refuses what does not fit", () => {
  const base = ["--gt", "g.json", "--images", "imgs"];
  const a = parseEvalArgs([
    ...base,
    ...["--detections", "results.bbox.json", "--detection-format", "mmrotate-json"],
    ...["--detection-classes", "plane,ship", "--angle-convention", "le135"],
    ...["--min-score", "0.3", "--match-iou", "0.7"],
  ]);
  assert.deepEqual(a.detections, {
    path: "results.bbox.json",
    format: "mmrotate-json",
    classNames: ["plane", "ship"],
    angleConvention: "le135",
    minScore: 0.3,
    iouThreshold: 0.7,
  });
  assert.equal(parseEvalArgs([...base, "--detections", "d"]).detections?.iouThreshold, 0.5);
  assert.equal(parseEvalArgs(base).detections, null);
  const refused: [string[], RegExp][] = [
    [["--min-score", "0.3"], /--min-score needs --detections/],
    [["--detections", "d", "--prompt-noise", "default"], /--prompt-noise does not go with/],
    [["--detections", "d", "--max-per-class", "5"], /--max-per-class does not go with/],
    [["--detections", "d", "--match-iou", "0"], /--match-iou 0 is not a number in \(0, 1\]/],
    [["--detections", "d", "--detection-format", "csv"], /--detection-format csv is not one of/],
    [["--detections", "d", "--angle-convention", "le45"], /--angle-convention le45 is not one/],
  ];
  for (const [extra, message] of refused) {
    assert.throws(() => parseEvalArgs([...base, ...extra]), message, extra.join(" "));
  }
});

Deno.test("parseEvalArgs() --prompt-class-swap: GT class = the class the model is told", () => {
  const base = ["--gt", "a", "--images", "i"];
  assert.deepEqual(parseEvalArgs(base).promptClassSwap, {});
  const a = parseEvalArgs([
    ...base,
    "--prompt-class-swap",
    "small_vehicle=large_vehicle, large_vehicle = small_vehicle",
  ]);
  assert.deepEqual(a.promptClassSwap, {
    small_vehicle: "large_vehicle",
    large_vehicle: "small_vehicle",
  });
  assert.throws(
    () => parseEvalArgs([...base, "--prompt-class-swap", "ship"]),
    /gt_class=prompt_class pairs .*"ship"/,
  );
  assert.throws(
    () => parseEvalArgs([...base, "--prompt-class-swap", "ship=harbor,ship=plane"]),
    /names ship twice/,
  );
  assert.throws(
    () => parseEvalArgs([...base, "--prompt-class-swap", "ship=harbor", "--no-class-prompt"]),
    /tells it none/,
  );
  assert.throws(
    () => parseEvalArgs(["--gt", "a", "--baseline", "obb-fill", "--prompt-class-swap", "a=b"]),
    /need the model, not --baseline/,
  );
});

Deno.test("parseEvalArgs() --classes that names no class is refused (it scored every class)", () => {
  const base = ["--gt", "a", "--images", "i"];
  assert.throws(() => parseEvalArgs([...base, "--classes", ""]), /--classes names no class/);
  assert.throws(() => parseEvalArgs([...base, "--classes", " , "]), /--classes names no class/);
  assert.deepEqual(parseEvalArgs([...base, "--classes", "ship,"]).classes, ["ship"]);
});
