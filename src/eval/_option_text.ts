/**
 * The text of an evaluation option that names a preset or gives numbers:
 * `--prompt-noise` and `--image-degrade` read it the same way.
 *
 * @module
 */

/** The allowed values of one key: the check, and the words that say the range when it fails. */
export interface KeyRange {
  ok: (value: number) => boolean;
  range: string;
}

/** What {@linkcode parsePresetOrPairs} read. */
export interface PresetOrPairs<K extends string> {
  /** The preset's name, or `null` when the text is `key=number` pairs. */
  preset: string | null;
  /** The numbers given (after a preset: `seed` only), each within its range. */
  values: Partial<Record<K | "seed", number>>;
}

/**
 * Reads `NAME[,seed=N]` (a name of `presets`) or `key=number,...` (keys of `ranges`, which
 * must include `seed`). Throws a `TypeError` beginning `Cannot parse <what> "<text>"` that
 * names the unknown preset or key, or the value and its allowed range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePresetOrPairs } from "./_option_text.ts";
 *
 * const ranges = {
 *   blur: { ok: (v: number) => v >= 0, range: "a number >= 0" },
 *   seed: { ok: Number.isInteger, range: "an integer" },
 * };
 * const spec = { what: "blur", presets: ["soft"], ranges };
 * assert.deepEqual(parsePresetOrPairs("soft,seed=2", spec), { preset: "soft", values: { seed: 2 } });
 * assert.deepEqual(parsePresetOrPairs("blur=1.5", spec), { preset: null, values: { blur: 1.5 } });
 * assert.throws(() => parsePresetOrPairs("blur=-1", spec), /blur -1 is not a number >= 0/);
 * assert.throws(() => parsePresetOrPairs("soft,blur=1", spec), /a preset takes only seed=N/);
 * ```
 */
export function parsePresetOrPairs<K extends string>(
  text: string,
  spec: {
    what: string;
    presets: readonly string[];
    ranges: Readonly<Record<K | "seed", KeyRange>>;
  },
): PresetOrPairs<K> {
  const what = `Cannot parse ${spec.what} "${text}"`;
  const keys = Object.keys(spec.ranges) as (K | "seed")[];
  const [first = "", ...rest] = text.split(",").map((s) => s.trim());
  if (first.includes("=")) {
    return { preset: null, values: readPairs([first, ...rest], what, keys, spec.ranges) };
  }
  if (!spec.presets.includes(first)) {
    throw new TypeError(
      `${what}: unknown preset "${first}" (presets: ${
        spec.presets.join(", ")
      }; or key=number pairs with keys ${keys.join(", ")})`,
    );
  }
  return { preset: first, values: readPairs<K | "seed">(rest, what, ["seed"], spec.ranges) };
}

function readPairs<K extends string>(
  items: readonly string[],
  what: string,
  allowed: readonly K[],
  ranges: Readonly<Record<K, KeyRange>>,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const item of items) {
    if (item === "") continue;
    const [key = "", value, extra] = item.split("=").map((s) => s.trim());
    if (!(allowed as readonly string[]).includes(key)) {
      throw new TypeError(
        `${what}: unknown key "${key}" (${
          allowed.length === 1 ? "a preset takes only seed=N" : `keys: ${allowed.join(", ")}`
        })`,
      );
    }
    const v = value === undefined || value === "" || extra !== undefined ? NaN : Number(value);
    const { ok, range } = ranges[key as K];
    if (!Number.isFinite(v) || !ok(v)) {
      throw new TypeError(`${what}: ${key} ${value ?? ""} is not ${range}`);
    }
    out[key as K] = v;
  }
  return out;
}
