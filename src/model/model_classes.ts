/**
 * The classes a model was trained on, from its manifest, and the lookup that
 * tells whether a detector's class is one of them.
 *
 * The model is class-agnostic: it segments any oriented box. A detection of a
 * class it never saw (a DOTA detector's harbours or bridges for a model
 * trained on vehicles only) is still segmented, but flagged, because its
 * masks are less reliable. Names match after {@linkcode normalizeClassName},
 * directly or through an alias the manifest lists (`airplane` -> `plane`).
 *
 * @module
 */

/** One training class as the manifest states it. */
export interface ModelClass {
  /** Canonical name (normalised), e.g. `small_vehicle`. */
  readonly name: string;
  /** Other names detectors and datasets use for it (normalised). */
  readonly aliases: readonly string[];
  /** Its id in the manifest (the iSAID category id): a class prompt's one-hot index. */
  readonly id?: number;
}

/**
 * Normalises a class name: trimmed, lower case, runs of spaces, hyphens and
 * underscores become one `_`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeClassName } from "./model_classes.ts";
 *
 * assert.equal(normalizeClassName(" Small-Vehicle "), "small_vehicle");
 * ```
 */
export function normalizeClassName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s\-_]+/g, "_");
}

/**
 * Lookup of a model's training classes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrainingClasses } from "./model_classes.ts";
 *
 * const classes = new TrainingClasses([{ name: "plane", aliases: ["airplane"] }]);
 * assert.equal(classes.canonical("Airplane"), "plane");
 * assert.equal(classes.has("harbor"), false);
 * ```
 */
export class TrainingClasses {
  /** Every name and alias (normalised) -> its class. */
  readonly #byName = new Map<string, ModelClass>();
  /** The classes, in manifest order. */
  readonly list: readonly ModelClass[];

  constructor(classes: readonly ModelClass[]) {
    this.list = classes.map((c) => ({
      name: normalizeClassName(c.name),
      aliases: c.aliases.map(normalizeClassName),
      ...(c.id === undefined ? {} : { id: c.id }),
    }));
    for (const c of this.list) {
      for (const n of [c.name, ...c.aliases]) {
        const prior = this.#byName.get(n)?.name;
        if (prior !== undefined && prior !== c.name) {
          throw new RangeError(
            `Cannot list model classes: "${n}" names both ${prior} and ${c.name}`,
          );
        }
        this.#byName.set(n, c);
      }
    }
  }

  /** The training class a detector's class name means, or `null` if none. */
  canonical(name: string): string | null {
    return this.#byName.get(normalizeClassName(name))?.name ?? null;
  }

  /**
   * The class prompt's one-hot index for a detector's class name: the training class's
   * manifest id, or `null` for a name that is none of them (or a class without an id).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TrainingClasses } from "./model_classes.ts";
   *
   * const classes = new TrainingClasses([{ id: 14, name: "plane", aliases: ["airplane"] }]);
   * assert.equal(classes.promptIndex("Airplane"), 14);
   * assert.equal(classes.promptIndex("container-crane"), null);
   * ```
   */
  promptIndex(name: string): number | null {
    return this.#byName.get(normalizeClassName(name))?.id ?? null;
  }

  /** Whether a detector's class name is one of the training classes. */
  has(name: string): boolean {
    return this.canonical(name) !== null;
  }

  /**
   * Whether a detection of this class is of a training class; `undefined` when the
   * name says nothing (empty, or a bare class id such as YOLO's `3` without `--classes`).
   */
  flag(name: string): boolean | undefined {
    const n = normalizeClassName(name);
    if (n === "" || n === "_" || /^\d+$/.test(n)) return undefined;
    return this.has(n);
  }
}
