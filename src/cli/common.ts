/**
 * What the subcommands share: usage errors, stderr output, number flags.
 *
 * @module
 */

import { BOX_SEARCH_ON, type BoxSearch, boxSearchProblem } from "../pipeline/segment_image.ts";
import { DEFAULT_FLIP_TTA, FLIP_TTA_MODES, type FlipTta } from "../model/flip_tta.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { type BackendChoice, parseBackendChoice } from "../model/backends.ts";

/** A usage error: the CLI prints it with the usage and exits with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Where a subcommand writes: results to stdout, everything else to stderr. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of stdin as text. */
  readStdin: () => Promise<string>;
  /** Whether stderr is a terminal (progress redraws one line). */
  stderrIsTerminal: boolean;
}

/** Writes all of `bytes` (a pipe may take fewer bytes per call than it is given). */
function writeAllSync(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

/** The real process streams. */
export function processIo(): CliIo {
  const enc = new TextEncoder();
  return {
    stdout: (t) => writeAllSync(Deno.stdout, enc.encode(t)),
    stderr: (t) => writeAllSync(Deno.stderr, enc.encode(t)),
    readStdin: async () => await new Response(Deno.stdin.readable).text(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}

/** Parse a positive integer flag or throw a usage error naming it. */
export function intFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  }
  return n;
}

/** Parse a non-negative number flag or throw a usage error naming it. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${name} must be a non-negative number, got "${value}"`);
  }
  return n;
}

/** Parse a flag that takes one of `choices`. */
export function choiceFlag<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  // LE90, WASM: the case is no reason to stop a run
  const lower = value.toLowerCase();
  if ((choices as readonly string[]).includes(lower)) return lower as T;
  throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${value}"`);
}

/** Parse an `on|off` flag: `undefined` when not given (the caller's default applies). */
export function onOffFlag(name: string, value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : choiceFlag(name, value, ["on", "off"], "off") === "on";
}

/**
 * Parse `--small-graphs on|off|N`: `undefined` when not given (the model's choice), a
 * boolean for on/off, or N > 0: on, for the crops up to N source pixels (the manifest's
 * `small_graphs.max_crop_side` otherwise).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smallGraphsFlag } from "./common.ts";
 * assert.equal(smallGraphsFlag("small-graphs", "off"), false);
 * assert.equal(smallGraphsFlag("small-graphs", "64"), 64);
 * assert.throws(() => smallGraphsFlag("small-graphs", "0"), /on, off or a crop side/);
 * ```
 */
export function smallGraphsFlag(
  name: string,
  value: string | undefined,
): boolean | number | undefined {
  if (value === undefined) return undefined;
  if (value === "on" || value === "off") return value === "on";
  const n = Number(value);
  if (value.trim() !== "" && Number.isFinite(n) && n > 0) return n;
  throw new UsageError(
    `--${name} must be on, off or a crop side in pixels (> 0), got "${value}"`,
  );
}

/** The help line of `--tta`, the same for every command. */
export const TTA_USAGE =
  `  --tta off|main|all      also run crops mirrored and average the two masks: main: the crops
                          on the main graphs (larger objects), all: every crop (twice the
                          model calls); default: ${DEFAULT_FLIP_TTA}`;

/** Parse `--tta` (`off`, `main`, `all`); `undefined` when absent (the default). */
export function ttaFlag(value: string | undefined): FlipTta | undefined {
  if (value === undefined) return undefined;
  if ((FLIP_TTA_MODES as readonly string[]).includes(value)) return value as FlipTta;
  throw new UsageError(`--tta must be one of ${FLIP_TTA_MODES.join(", ")}, got "${value}"`);
}

/** The help line of `--box-search`, the same for every command. */
export const BOX_SEARCH_USAGE =
  `  --box-search off|on|S,M for a detector whose boxes miss their objects: a box on the main
                          graphs (crops over 96 px) is also tried moved by S of its long side
                          (on: 0.06) forwards and back along each axis, and a moved box's mask
                          kept where its predicted IoU beats the given box's by more than M
                          (on: 0.05); up to 5 model calls for those boxes; default: off`;

/**
 * Parse `--box-search` (`off`, `on`, or `SHIFT,MARGIN`); `undefined` when absent or `off`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxSearchFlag } from "./common.ts";
 *
 * assert.deepEqual(boxSearchFlag("on"), { shift: 0.06, margin: 0.05 });
 * assert.deepEqual(boxSearchFlag("0.1,0"), { shift: 0.1, margin: 0 });
 * assert.equal(boxSearchFlag("Off"), undefined);
 * assert.throws(() => boxSearchFlag("0.1"), /--box-search must be/);
 * assert.throws(() => boxSearchFlag("0.5,1"), /its MARGIN must be in \[0, 1\), got 1/);
 * ```
 */
export function boxSearchFlag(value: string | undefined): BoxSearch | undefined {
  const word = value?.trim().toLowerCase();
  if (word === undefined || word === "off") return undefined;
  if (word === "on") return { ...BOX_SEARCH_ON };
  const parts = word.split(",").map((v) => v.trim() === "" ? NaN : Number(v));
  const [shift = NaN, margin = NaN] = parts;
  const problem = parts.length === 2 ? boxSearchProblem({ shift, margin }) : null;
  if (parts.length === 2 && problem === null) return { shift, margin };
  throw new UsageError(
    `--box-search must be off, on or SHIFT,MARGIN (a share of the long side in (0, 1), a ` +
      `predicted IoU margin in [0, 1)), got "${value}"` +
      (problem ? ` (its ${problem.field.toUpperCase()} ${problem.message})` : ""),
  );
}

/** Parse `--backend` (default `auto`) or throw a usage error that lists the valid names. */
export function backendFlag(value: string | undefined): BackendChoice {
  try {
    return parseBackendChoice((value ?? "auto").toLowerCase());
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `h:mm:ss` for an ETA. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}

/** `parseArgs` of `node:util`, its errors (unknown flag, missing value) thrown as UsageError. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    const message = (e as Error).message;
    // node's words for a value that starts with "-" (`--shard -1/3`, `--min-score -0.5`)
    const flag = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message)?.[1];
    throw new UsageError(
      flag === undefined
        ? message
        : `${flag}: a value that starts with "-" reads as another flag; give it as ${flag}=VALUE`,
    );
  }
}
