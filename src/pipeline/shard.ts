/**
 * Sharding a run over independent workers: `--shard INDEX/COUNT` picks a
 * deterministic share of the images, the same on every machine, balanced by
 * detection count (one scene may hold 50,000 boxes, its neighbour 3).
 *
 * Pure: the share depends only on the images' names (their paths relative to
 * `--images`), their detection counts and the shard count, never on the
 * order a file system lists them in.
 *
 * @module
 */

/** One worker's share: `index` in `0..count-1`. */
export interface Shard {
  /** This worker's index, from 0. */
  index: number;
  /** How many workers share the run. */
  count: number;
}

/**
 * Parse `INDEX/COUNT` (INDEX from 0). Throws a RangeError naming what is wrong.
 *
 * @example
 * ```ts
 * import { parseShard } from "./shard.ts";
 * const s = parseShard("2/8");
 * if (s.index !== 2 || s.count !== 8) throw new Error();
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) {
    throw new RangeError(`Cannot parse shard "${text}": expected INDEX/COUNT like 0/4`);
  }
  const index = Number(m[1]), count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(
      `Cannot parse shard "${text}": COUNT must be ${
        count < 1 ? "at least 1" : `at most ${Number.MAX_SAFE_INTEGER}`
      }`,
    );
  }
  if (index >= count) {
    throw new RangeError(
      `Cannot parse shard "${text}": INDEX counts from 0 and must be below COUNT (${count})`,
    );
  }
  return { index, count };
}

const utf8 = new TextEncoder();

/**
 * Byte-wise comparison of the UTF-8 encodings of `a` and `b` (as `LC_ALL=C
 * sort` orders), for sort orders that do not depend on a locale or runtime.
 *
 * @example
 * ```ts
 * import { compareBytes } from "./shard.ts";
 * if (!(compareBytes("B.png", "a.png") < 0)) throw new Error("upper case first");
 * ```
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const x = utf8.encode(a), y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

/** An image as the shard assignment sees it. */
export interface ShardItem {
  /** The image's path relative to `--images` (its file name for a folder). */
  name: string;
  /** Its work: the number of detections to segment. */
  detections: number;
}

/**
 * The shard of each item, in the items' order: greedy longest-processing-time
 * over the items sorted by detection count (descending), then name
 * (byte-wise); each goes to the shard with the fewest detections so far, the
 * lowest index on a tie. Every image costs at least one unit (opening it and
 * writing its outputs), so images without detections are spread too.
 *
 * Deterministic: the same names and counts give the same shares whatever the
 * order of `items`. Throws a RangeError for duplicate names.
 *
 * @example
 * ```ts
 * import { assignShards } from "./shard.ts";
 * const s = assignShards([
 *   { name: "a.png", detections: 10 },
 *   { name: "b.png", detections: 4 },
 *   { name: "c.png", detections: 5 },
 * ], 2);
 * if (s.join() !== "0,1,1") throw new Error(s.join());
 * ```
 */
export function assignShards(items: readonly ShardItem[], count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`Cannot assign shards: count must be a positive integer, got ${count}`);
  }
  const order = items.map((_, i) => i).sort((i, j) => {
    const a = items[i]!, b = items[j]!;
    return b.detections - a.detections || compareBytes(a.name, b.name);
  });
  const seen = new Set<string>();
  for (const { name } of items) {
    if (seen.has(name)) {
      throw new RangeError(`Cannot assign shards: the image name "${name}" appears twice`);
    }
    seen.add(name);
  }
  const load = new Array<number>(count).fill(0);
  const shardOf = new Array<number>(items.length);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s;
    shardOf[i] = best;
    load[best]! += Math.max(1, items[i]!.detections);
  }
  return shardOf;
}
