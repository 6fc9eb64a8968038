/**
 * Class names across datasets, and the `--classes` selection.
 *
 * Datasets spell the same object class differently (iSAID `plane`, NWPU
 * VHR-10 `airplane`, DOTA `small-vehicle`) or split it (iSAID has small and
 * large vehicles where NWPU has `vehicle`). Names are first normalised
 * (lower case, spaces and hyphens to `_`), then looked up in
 * {@linkcode CLASS_GROUPS}:
 *
 * | selected name | dataset classes it covers |
 * |---|---|
 * | `plane`, `airplane` | `plane`, `airplane` |
 * | `vehicle` | `vehicle`, `small_vehicle`, `large_vehicle` |
 * | `storage_tank` | `storage_tank`, `storagetank` |
 * | `swimming_pool` | `swimming_pool`, `swimmingpool` |
 * | `ship`, `helicopter`, ... | the class of that name |
 *
 * A selected name that is itself a class of the dataset always means that
 * class alone. The report shows each selection under the name the user
 * typed (normalised), so `--classes plane,vehicle` gives rows comparable
 * between iSAID and NWPU. Extra groups (`name=member+member`) extend or
 * replace the table.
 *
 * @module
 */

import { normalizeClassName } from "../model/model_classes.ts";
export { normalizeClassName };

/** Built-in groups: a selectable name and the dataset class names it covers. */
export const CLASS_GROUPS: Readonly<Record<string, readonly string[]>> = {
  plane: ["plane", "airplane"],
  airplane: ["airplane", "plane"],
  vehicle: ["vehicle", "small_vehicle", "large_vehicle"],
  storage_tank: ["storage_tank", "storagetank"],
  swimming_pool: ["swimming_pool", "swimmingpool"],
};

/**
 * Parses extra groups written `name=member+member,name=member`, e.g.
 * `vehicle=small_vehicle+large_vehicle,tank=storage_tank`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClassGroups } from "./class_map.ts";
 *
 * assert.deepEqual(parseClassGroups("tank=storage_tank,car=small-vehicle+large vehicle"), {
 *   tank: ["storage_tank"],
 *   car: ["small_vehicle", "large_vehicle"],
 * });
 * ```
 */
export function parseClassGroups(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of text.split(",")) {
    if (item.trim() === "") continue;
    const eq = item.indexOf("=");
    const name = normalizeClassName(eq < 0 ? "" : item.slice(0, eq));
    const members = eq < 0 ? [] : item.slice(eq + 1).split("+").map(normalizeClassName).filter(
      (m) => m !== "",
    );
    if (name === "" || members.length === 0) {
      throw new SyntaxError(
        `Cannot parse class group "${item.trim()}": expected name=class or name=class+class`,
      );
    }
    out[name] = members;
  }
  return out;
}

/** Options for {@linkcode selectClasses}. */
export interface SelectClassesOptions {
  /** Groups added to (or replacing entries of) {@linkcode CLASS_GROUPS}. Default: none. */
  groups?: Readonly<Record<string, readonly string[]>>;
}

/** Which dataset classes are scored and under which report name. */
export interface ClassSelection {
  /** Report name of each selected dataset class name (as the dataset spells it). */
  reportName: Map<string, string>;
  /** Report names in selection order (dataset order when nothing was selected). */
  reportNames: string[];
}

/**
 * Resolves a class selection against the class names of a dataset.
 * With no selection (`undefined` or empty) every dataset class is scored
 * under its own name. Throws a `RangeError` listing the dataset's classes
 * when a selected name matches none of them, or when two selections claim
 * the same class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectClasses } from "./class_map.ts";
 *
 * const isaid = ["ship", "small_vehicle", "large_vehicle", "plane"];
 * const sel = selectClasses(["airplane", "vehicle"], isaid);
 * assert.deepEqual(sel.reportNames, ["airplane", "vehicle"]);
 * assert.equal(sel.reportName.get("plane"), "airplane");
 * assert.equal(sel.reportName.get("large_vehicle"), "vehicle");
 * assert.equal(sel.reportName.has("ship"), false);
 * ```
 */
export function selectClasses(
  selection: readonly string[] | undefined,
  datasetClasses: readonly string[],
  options: SelectClassesOptions = {},
): ClassSelection {
  const reportName = new Map<string, string>();
  if (selection === undefined || selection.length === 0) {
    for (const c of datasetClasses) reportName.set(c, c);
    return { reportName, reportNames: [...new Set(datasetClasses)] };
  }
  const groups: Record<string, readonly string[]> = { ...CLASS_GROUPS };
  for (const [k, v] of Object.entries(options.groups ?? {})) {
    groups[normalizeClassName(k)] = v.map(normalizeClassName);
  }
  const byNormal = new Map<string, string[]>();
  for (const c of datasetClasses) {
    const n = normalizeClassName(c);
    byNormal.set(n, [...(byNormal.get(n) ?? []), c]);
  }
  const reportNames: string[] = [];
  for (const raw of selection) {
    const name = normalizeClassName(raw);
    if (name === "" || reportNames.includes(name)) continue;
    const members = byNormal.has(name)
      ? [name]
      : (groups[name] ?? []).filter((m) => byNormal.has(m));
    if (members.length === 0) {
      const known = [...new Set(datasetClasses)].join(", ");
      throw new RangeError(
        `Cannot select class "${raw}": the dataset has no such class (classes: ${known})`,
      );
    }
    for (const m of members) {
      for (const c of byNormal.get(m) ?? []) {
        const prior = reportName.get(c);
        if (prior !== undefined) {
          throw new RangeError(
            `Cannot select class "${raw}": class "${c}" is already selected as "${prior}"`,
          );
        }
        reportName.set(c, name);
      }
    }
    reportNames.push(name);
  }
  return { reportName, reportNames };
}
