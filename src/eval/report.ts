/**
 * The evaluation report as a text table (terminal), JSON and Markdown.
 * Text and Markdown show percentages with two decimals; JSON keeps the
 * fractions (0..1) of the report object. Text and Markdown end with the
 * by-size table: a row per class and a column per size bin (IoU and number
 * of instances), then per bin the means over classes and over instances.
 *
 * @module
 */

import type { ClassScores } from "./accumulator.ts";
import type { EvalReport } from "./run_eval.ts";

function pct(v: number | null): string {
  return v === null ? "-" : (100 * v).toFixed(2);
}

interface Row {
  name: string;
  instances: string;
  iou: string;
  biou: string;
}

function rows(report: EvalReport): Row[] {
  const s = report.summary;
  const row = (c: ClassScores): Row => ({
    name: c.className,
    instances: String(c.instances),
    iou: pct(c.iou),
    biou: pct(c.boundaryIou),
  });
  return [
    ...s.classes.map(row),
    { name: "mean over classes", instances: "", iou: pct(s.mIoU), biou: pct(s.mBIoU) },
    { ...row(s.all), name: "all instances" },
  ];
}

/** `IoU (n=instances)`, or `-` without instances. */
function sizeCell(c: ClassScores | undefined): string {
  return c === undefined || c.instances === 0 ? "-" : `${pct(c.iou)} (n=${c.instances})`;
}

interface SizeRow {
  name: string;
  cells: string[];
}

/** The by-size table: the class rows, then the four rows of means. */
function sizeRows(report: EvalReport): { classes: SizeRow[]; means: SizeRow[] } {
  const bins = report.bySize;
  return {
    classes: report.summary.classes.map((c) => ({
      name: c.className,
      cells: bins.map((b) => sizeCell(b.classes.find((x) => x.className === c.className))),
    })),
    means: [
      { name: "mIoU (mean over classes)", cells: bins.map((b) => pct(b.mIoU)) },
      { name: "mBIoU (mean over classes)", cells: bins.map((b) => pct(b.mBIoU)) },
      { name: "IoU, all instances", cells: bins.map((b) => sizeCell(b.all)) },
      { name: "BIoU, all instances", cells: bins.map((b) => pct(b.all.boundaryIou)) },
    ],
  };
}

const SIZE_MEASURE = "long side of the ground-truth oriented box, px";

function sizeText(report: EvalReport): string[] {
  if (report.bySize.length === 0) return [];
  const { classes, means } = sizeRows(report);
  const head: SizeRow = { name: "class", cells: report.bySize.map((b) => b.name) };
  const all = [head, ...classes, ...means];
  const wName = Math.max(...all.map((r) => r.name.length));
  const wCell = Math.max(...all.flatMap((r) => r.cells.map((c) => c.length)));
  const line = (r: SizeRow) =>
    [r.name.padEnd(wName), ...r.cells.map((c) => c.padStart(wCell))].join("  ");
  const rule = "-".repeat(wName + (wCell + 2) * head.cells.length);
  return [
    "",
    `by object size (${SIZE_MEASURE}): IoU % (n = instances)`,
    line(head),
    rule,
    ...classes.map(line),
    rule,
    ...means.map(line),
  ];
}

function title(report: EvalReport): string {
  const what = report.mode === "model" ? "model" : `baseline ${report.mode}`;
  const noise = report.promptNoise
    ? `, prompt noise ${Object.entries(report.promptNoise).map(([k, v]) => `${k}=${v}`).join(" ")}`
    : "";
  const degrade = report.imageDegrade
    ? `, image degradation ${
      Object.entries(report.imageDegrade).map(([k, v]) => `${k}=${v}`).join(" ")
    }`
    : "";
  return `${what} on ${report.gt} (${report.images} images, Boundary IoU band ${
    report.dilations.join("/")
  } px${noise}${degrade})`;
}

/**
 * A plain-text table for a terminal: per class instances, IoU and Boundary
 * IoU (%), then the means over classes (mIoU / mBIoU) and over all instances;
 * then the by-size table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTextReport } from "./report.ts";
 * import { SizeAccumulator } from "./size_bins.ts";
 *
 * const sizes = new SizeAccumulator();
 * sizes.add("ship", { longSide: 30, iou: 1, boundaryIou: 0.5 });
 * sizes.add("ship", { longSide: 90, iou: 0.5, boundaryIou: 0.5 });
 * const text = formatTextReport({
 *   gt: "val.json", mode: "obb-fill", images: 1, skippedInstances: 0, dilationRatio: 0.005,
 *   dilations: [4], promptNoise: null, settings: {}, seconds: 0.1,
 *   summary: {
 *     classes: [{ className: "ship", instances: 2, iou: 0.75, boundaryIou: 0.5 }],
 *     mIoU: 0.75, mBIoU: 0.5,
 *     all: { className: "all", instances: 2, iou: 0.75, boundaryIou: 0.5 },
 *   },
 *   bySize: sizes.summary(),
 * });
 * assert.match(text, /ship\s+2\s+75\.00\s+50\.00/);
 * assert.match(text, /class\s+<64\s+64-256\s+>=256/);
 * assert.match(text, /ship\s+100\.00 \(n=1\)\s+50\.00 \(n=1\)\s+-/);
 * ```
 */
export function formatTextReport(report: EvalReport): string {
  const all = rows(report);
  const head: Row = { name: "class", instances: "instances", iou: "IoU", biou: "BIoU" };
  const w = {
    name: Math.max(...[head, ...all].map((r) => r.name.length)),
    instances: Math.max(...[head, ...all].map((r) => r.instances.length)),
    iou: 6,
    biou: 6,
  };
  const line = (r: Row) =>
    `${r.name.padEnd(w.name)}  ${r.instances.padStart(w.instances)}  ${r.iou.padStart(w.iou)}  ${
      r.biou.padStart(w.biou)
    }`;
  const rule = "-".repeat(w.name + w.instances + w.iou + w.biou + 6);
  const body = all.map(line);
  return [
    title(report),
    line(head),
    rule,
    ...body.slice(0, -2),
    rule,
    ...body.slice(-2),
    `skipped instances: ${report.skippedInstances}; ${report.seconds.toFixed(1)} s`,
    ...detectionsText(report),
    ...sizeText(report),
  ].join("\n") + "\n";
}

/** Per class: GT instances, detections, matched, recall and precision, as table rows. */
function detectionRows(report: EvalReport): string[][] {
  const d = report.detections;
  if (d === undefined) return [];
  const ratio = (a: number, b: number) => pct(b === 0 ? null : a / b);
  return [...d.classes, {
    className: "all",
    gt: d.gt,
    detections: d.detections,
    matched: d.matched,
  }]
    .map((c) => [
      c.className,
      String(c.gt),
      String(c.detections),
      String(c.matched),
      ratio(c.matched, c.gt),
      ratio(c.matched, c.detections),
    ]);
}

const DETECTION_HEAD = ["class", "GT", "detections", "matched", "recall", "precision"];

/** The detections' matching as text lines (none without detections). */
function detectionsText(report: EvalReport): string[] {
  const d = report.detections;
  if (d === undefined) return [];
  const rows = [DETECTION_HEAD, ...detectionRows(report)];
  const w = DETECTION_HEAD.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  const line = (r: string[]) =>
    r.map((v, k) => k === 0 ? v.padEnd(w[k]!) : v.padStart(w[k]!)).join("  ");
  return [
    "",
    `detections ${d.source} matched to the GT (same class, rotated IoU >= ${d.iouThreshold}); ` +
    "the scores above are over the matched instances, each prompted with its detection:",
    line(rows[0]!),
    "-".repeat(w.reduce((a, b) => a + b + 2, -2)),
    ...rows.slice(1).map(line),
    ...(d.otherClasses.length ? [otherClassesLine(d)] : []),
  ];
}

/** The detections left out for their class, as one line. */
function otherClassesLine(d: NonNullable<EvalReport["detections"]>): string {
  const n = d.otherClasses.reduce((a, c) => a + c.detections, 0);
  return `left out: ${n} detection(s) of classes not scored (${
    d.otherClasses.map((c) => `${c.className} ${c.detections}`).join(", ")
  })`;
}

/**
 * The report as Markdown: a heading line, the settings, the table, and the
 * by-size table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMarkdownReport } from "./report.ts";
 * import { SizeAccumulator } from "./size_bins.ts";
 *
 * const sizes = new SizeAccumulator();
 * sizes.add("ship", { longSide: 30, iou: 1, boundaryIou: 0.5 });
 * sizes.add("ship", { longSide: 90, iou: 0.5, boundaryIou: 0.5 });
 * const md = formatMarkdownReport({
 *   gt: "val.json", mode: "model", images: 1, skippedInstances: 0, dilationRatio: 0.005,
 *   dilations: [4], promptNoise: null, settings: { model: "sopseg-lite" }, seconds: 0.1,
 *   summary: {
 *     classes: [{ className: "ship", instances: 2, iou: 0.75, boundaryIou: 0.5 }],
 *     mIoU: 0.75, mBIoU: 0.5,
 *     all: { className: "all", instances: 2, iou: 0.75, boundaryIou: 0.5 },
 *   },
 *   bySize: sizes.summary(),
 * });
 * assert.match(md, /\| ship \| 2 \| 75\.00 \| 50\.00 \|/);
 * assert.ok(md.includes("| **mean over classes** |"));
 * assert.ok(md.includes("| ship | 100.00 (n=1) | 50.00 (n=1) | - |"));
 * ```
 */
export function formatMarkdownReport(report: EvalReport): string {
  const out = [`# Evaluation: ${title(report)}`, ""];
  const settings = Object.entries(report.settings);
  if (settings.length > 0) {
    for (const [k, v] of settings) out.push(`- ${k}: \`${JSON.stringify(v)}\``);
    out.push("");
  }
  out.push("| class | instances | IoU | Boundary IoU |", "|---|---:|---:|---:|");
  const all = rows(report);
  for (const [i, r] of all.entries()) {
    const name = i >= all.length - 2 ? `**${r.name}**` : r.name;
    out.push(`| ${name} | ${r.instances} | ${r.iou} | ${r.biou} |`);
  }
  out.push(
    "",
    `IoU and Boundary IoU in %, per instance then averaged per class; the mean over classes is mIoU / mBIoU. ` +
      `Boundary band: ${report.dilationRatio} of the image diagonal. ` +
      `Skipped instances: ${report.skippedInstances}. Time: ${report.seconds.toFixed(1)} s.`,
    "",
  );
  if (report.detections !== undefined) {
    const d = report.detections;
    out.push(
      `Detections \`${d.source}\` matched to the GT (same class, rotated IoU >= ${d.iouThreshold}); ` +
        "the scores above are over the matched instances, each prompted with its detection:",
      "",
      `| ${DETECTION_HEAD.join(" | ")} |`,
      "|---|---:|---:|---:|---:|---:|",
      ...detectionRows(report).map((r) => `| ${r.join(" | ")} |`),
      "",
      ...(d.otherClasses.length ? [`${otherClassesLine(d)}.`, ""] : []),
    );
  }
  if (report.bySize.length > 0) {
    const { classes, means } = sizeRows(report);
    out.push(
      "## By object size",
      "",
      `Size: ${SIZE_MEASURE} (the prompt before any noise). Cells: IoU in % (n = instances); ` +
        `mIoU / mBIoU average the classes that have instances in the bin.`,
      "",
      `| class | ${report.bySize.map((b) => b.name).join(" | ")} |`,
      `|---|${"---:|".repeat(report.bySize.length)}`,
      ...classes.map((r) => `| ${r.name} | ${r.cells.join(" | ")} |`),
      ...means.map((r) => `| **${r.name}** | ${r.cells.join(" | ")} |`),
      "",
    );
  }
  return out.join("\n");
}

/**
 * The report as pretty-printed JSON (fractions, 0..1; `null` for a class
 * without instances). The by-size scores are under `bySize`: one entry per
 * bin with its bounds (`minLongSide`, `maxLongSide`, `null` for no bound) and
 * the same fields as `summary`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJsonReport } from "./report.ts";
 * import { SizeAccumulator } from "./size_bins.ts";
 *
 * const report = {
 *   gt: "val.json", mode: "hbox-fill" as const, images: 0, skippedInstances: 0,
 *   dilationRatio: 0.005, dilations: [], promptNoise: null, settings: {}, seconds: 0,
 *   summary: { classes: [], mIoU: null, mBIoU: null,
 *     all: { className: "all", instances: 0, iou: null, boundaryIou: null } },
 *   bySize: new SizeAccumulator().summary(),
 * };
 * const json = JSON.parse(formatJsonReport(report));
 * assert.equal(json.bySize[2].maxLongSide, null); // the open bin: JSON has no Infinity
 * assert.deepEqual(json, report);
 * ```
 */
export function formatJsonReport(report: EvalReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
