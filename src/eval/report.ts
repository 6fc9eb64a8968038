/**
 * The evaluation report as a text table (terminal), JSON and Markdown.
 * Text and Markdown show percentages with two decimals; JSON keeps the
 * fractions (0..1) of the report object.
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

function title(report: EvalReport): string {
  const what = report.mode === "model" ? "model" : `baseline ${report.mode}`;
  const noise = report.promptNoise
    ? `, prompt noise ${Object.entries(report.promptNoise).map(([k, v]) => `${k}=${v}`).join(" ")}`
    : "";
  return `${what} on ${report.gt} (${report.images} images, Boundary IoU band ${
    report.dilations.join("/")
  } px${noise})`;
}

/**
 * A plain-text table for a terminal: per class instances, IoU and Boundary
 * IoU (%), then the means over classes (mIoU / mBIoU) and over all instances.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTextReport } from "./report.ts";
 *
 * const text = formatTextReport({
 *   gt: "val.json", mode: "obb-fill", images: 1, skippedInstances: 0, dilationRatio: 0.005,
 *   dilations: [4], promptNoise: null, settings: {}, seconds: 0.1,
 *   summary: {
 *     classes: [{ className: "ship", instances: 2, iou: 0.75, boundaryIou: 0.5 }],
 *     mIoU: 0.75, mBIoU: 0.5,
 *     all: { className: "all", instances: 2, iou: 0.75, boundaryIou: 0.5 },
 *   },
 * });
 * assert.match(text, /ship\s+2\s+75\.00\s+50\.00/);
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
  ].join("\n") + "\n";
}

/**
 * The report as Markdown: a heading line, the settings, and the table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMarkdownReport } from "./report.ts";
 *
 * const md = formatMarkdownReport({
 *   gt: "val.json", mode: "model", images: 1, skippedInstances: 0, dilationRatio: 0.005,
 *   dilations: [4], promptNoise: null, settings: { model: "sopseg-lite" }, seconds: 0.1,
 *   summary: {
 *     classes: [{ className: "ship", instances: 2, iou: 0.75, boundaryIou: 0.5 }],
 *     mIoU: 0.75, mBIoU: 0.5,
 *     all: { className: "all", instances: 2, iou: 0.75, boundaryIou: 0.5 },
 *   },
 * });
 * assert.match(md, /\| ship \| 2 \| 75\.00 \| 50\.00 \|/);
 * assert.ok(md.includes("| **mean over classes** |"));
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
  return out.join("\n");
}

/**
 * The report as pretty-printed JSON (fractions, 0..1; `null` for a class
 * without instances).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJsonReport } from "./report.ts";
 *
 * const report = {
 *   gt: "val.json", mode: "hbox-fill" as const, images: 0, skippedInstances: 0,
 *   dilationRatio: 0.005, dilations: [], promptNoise: null, settings: {}, seconds: 0,
 *   summary: { classes: [], mIoU: null, mBIoU: null,
 *     all: { className: "all", instances: 0, iou: null, boundaryIou: null } },
 * };
 * assert.deepEqual(JSON.parse(formatJsonReport(report)), report);
 * ```
 */
export function formatJsonReport(report: EvalReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
