/**
 * Detector result files that hold many images' detections, keyed by image id:
 * DOTA Task1 (`Task1_<class>.txt`, one file per class, or a folder of them)
 * and mmrotate's JSON (`<prefix>.bbox.json`). A run splits them by image stem
 * when it plans; the JSON-RPC server takes one image's share.
 *
 * @module
 */
import type { Detection, ParseIssue } from "../formats/detection.ts";
import { parseDotaTask1 } from "../formats/dota.ts";
import { looksLikeMmrotateJson, parseMmrotateJson } from "../formats/mmrotate_json.ts";
import type { AngleConvention } from "../geometry/oriented_box.ts";
import type { DetectionFormat, ResultsFormat } from "./detections_input.ts";
import { isAbsolute } from "node:path";
import { baseName } from "./paths.ts";

/** A results file's (or folder's) detections by image id. */
export interface ResultsByImage {
  /** Detections per image id, in first-seen order. */
  byImage: Map<string, Detection[]>;
  /** Records that could not be read, in file order. */
  issues: ParseIssue[];
  /** The file, or `N Task1 files`, for messages. */
  source: string;
  /** `the Task1 results` / `the mmrotate results`, for messages. */
  what: string;
  /** The format the results were read in. */
  format: ResultsFormat;
  /** What the file's numbers suggest was misread, to be said (none for Task1). */
  warnings?: string[];
}

/** Options of {@linkcode readResults}. */
export interface ReadResultsOptions {
  /** The format asked for; `auto` (or none) finds results by name and content. */
  format?: DetectionFormat | ResultsFormat | "auto";
  /** How mmrotate's 5-number boxes' angles are measured (required for them). */
  angleConvention?: AngleConvention;
  /** Class names by mmrotate `category_id`. */
  classNames?: readonly string[];
  /**
   * Detections scored below this are not kept (read and checked all the same;
   * their image ids are still listed): a detector's results for a dataset are
   * mostly low scores, and parsed detections take memory. Default: all kept.
   */
  minScore?: number;
  /**
   * Called once `path` is known to be results, before they are parsed (a
   * detector's results for a whole dataset can take seconds): their source
   * (the file, or `N Task1 files`) and what they are (`the Task1 results`).
   */
  onReading?: (source: string, what: string) => void;
}

/**
 * An input path that does not exist. The CLI exits with 1 for it, not 2: on a
 * cluster, a volume mounted late is worth a retry (docs/SCALE.md).
 */
export class MissingInputError extends TypeError {
  override name = "MissingInputError";
}

/**
 * Whether `path` is a folder; a missing path is a {@linkcode MissingInputError}
 * naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDirectory } from "./results_input.ts";
 *
 * assert.equal(await isDirectory(Deno.cwd()), true);
 * await assert.rejects(isDirectory("/surely/not/here"), /no such file or folder/);
 * ```
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      // `deno task` runs in deno.json's folder, wherever it was started from: say so
      const from = isAbsolute(path) ? "" : ` (relative paths start from ${Deno.cwd()}, where ` +
        `deno task runs sopseg; give an absolute path)`;
      throw new MissingInputError(`Cannot read ${path}: no such file or folder${from}`);
    }
    throw e;
  }
}

/** Options of {@linkcode listFiles}: what to do with links that lead nowhere, and folders. */
export interface ListFilesOptions {
  /**
   * Called for a link (with a kept name) to nothing. Default: left out.
   */
  onDangling?: (path: string) => void;
  /** List links to nothing as files (a volume mounted late: reading them fails). Default: false. */
  keepDangling?: boolean;
  /** Called for a link (with a kept name) in a loop of links: left out. Default: left out. */
  onLoop?: (path: string) => void;
  /** Called for a folder (or a link to one), whatever its name: not searched. */
  onFolder?: (path: string) => void;
}

/**
 * The files of `dir` whose names pass `keep`, sorted. Symlinks count when
 * they point at a file (dataset splits are often folders of links); a
 * dangling link is left out (or listed, `keepDangling`) and given to
 * `onDangling`; a link in a loop is left out and given to `onLoop`; a folder
 * (or a link to one), whatever its name, is not searched and given to
 * `onFolder`.
 *
 * @example
 * ```ts ignore
 * const images = await listFiles("images", (n) => n.endsWith(".png"));
 * ```
 */
export async function listFiles(
  dir: string,
  keep: (name: string) => boolean,
  options: ListFilesOptions | ListFilesOptions["onDangling"] = {},
  /** The older form's `onFolder`, after `onDangling` as the third argument. */
  legacyOnFolder?: (path: string) => void,
): Promise<string[]> {
  if (typeof options !== "object") options = { onDangling: options, onFolder: legacyOnFolder };
  const { onDangling, onLoop, onFolder } = options;
  const keepDangling = options.keepDangling ?? false;
  const out: string[] = [];
  const base = dir.replace(/\/+$/, "");
  for await (const e of Deno.readDir(dir)) {
    const path = `${base}/${e.name}`;
    if (e.isDirectory) {
      onFolder?.(path);
      continue;
    }
    if (!keep(e.name)) {
      // a link to a folder (a target outside the granted paths cannot be told: left alone)
      if (e.isSymlink && onFolder && await linkTarget(path).catch(() => "other") === "folder") {
        onFolder(path);
      }
      continue;
    }
    if (e.isFile) out.push(path);
    else if (e.isSymlink) {
      const target = await linkTarget(path);
      if (target === "file") out.push(path);
      else if (target === "nothing") {
        onDangling?.(path);
        if (keepDangling) out.push(path);
      } else if (target === "loop") onLoop?.(path);
      else if (target === "folder") onFolder?.(path);
    }
  }
  return out.sort();
}

async function linkTarget(
  path: string,
): Promise<"file" | "folder" | "other" | "nothing" | "loop"> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? "file" : info.isDirectory ? "folder" : "other";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "nothing";
    if (e instanceof Deno.errors.FilesystemLoop) return "loop";
    throw e;
  }
}

/**
 * Why reading `path` found nothing when it is a link to nothing (its target
 * named: a volume not mounted yet?); `null` when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { danglingLinkMessage } from "./results_input.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.symlink("/mnt/not-there/a.png", `${dir}/a.png`);
 * assert.match((await danglingLinkMessage(`${dir}/a.png`))!, /link to nothing \(\/mnt\/not-there/);
 * assert.equal(await danglingLinkMessage(dir), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function danglingLinkMessage(path: string): Promise<string | null> {
  try {
    if (!(await Deno.lstat(path)).isSymlink || await linkTarget(path) !== "nothing") return null;
    return `Cannot read ${path}: it is a symbolic link to nothing (${await Deno.readLink(path)}: ` +
      `a volume not mounted yet?); rerun with --resume once it is there`;
  } catch {
    return null;
  }
}

const TASK1_NAME = /^Task1_.+\.txt$/i;

/** The Task1 result files `path` stands for, or `null` when it is not Task1 input. */
async function task1Files(
  path: string,
  format: ReadResultsOptions["format"],
): Promise<string[] | null> {
  if (format !== undefined && format !== "auto" && format !== "task1") return null;
  if (!(await isDirectory(path))) {
    return format === "task1" || TASK1_NAME.test(baseName(path)) ? [path] : null;
  }
  const files = await listFiles(path, (n) => TASK1_NAME.test(n));
  if (format === "task1" && files.length === 0) {
    throw new TypeError(`Cannot read DOTA Task1 results: no Task1_<class>.txt files in ${path}`);
  }
  return files.length ? files : null;
}

/**
 * The mmrotate JSON results file `path` stands for: `format` says so, or `auto`
 * finds a `.json` file (not `.geojson`) whose text is an array. `null` otherwise.
 */
async function mmrotateFile(
  path: string,
  format: ReadResultsOptions["format"],
): Promise<{ path: string; text: string } | null> {
  if (format !== undefined && format !== "auto" && format !== "mmrotate-json") return null;
  if (await isDirectory(path)) {
    if (format !== "mmrotate-json") return null;
    throw new TypeError(
      `Cannot read mmrotate results: ${path} is a folder; give the results file (<prefix>.bbox.json)`,
    );
  }
  const asked = format === "mmrotate-json";
  if (!asked && !/\.json$/i.test(path)) return null;
  try {
    // sniffing reads the file's start only: a GeoJSON of detections is read once, by its reader
    if (!asked && !(await startsWithArray(path))) return null;
    return { path, text: await Deno.readTextFile(path) };
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) throw e;
    // sniffing: the per-image reading reports an unreadable file as it does for every format
    if (!asked) return null;
    throw new TypeError(`Cannot read mmrotate results ${path}: ${(e as Error).message}`);
  }
}

/**
 * Whether the file's first character other than a byte-order mark and white
 * space is `[` (a JSON array: {@linkcode looksLikeMmrotateJson}), read in
 * chunks of 4 KiB until one is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startsWithArray } from "./results_input.ts";
 *
 * const file = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(file, "\uFEFF" + " ".repeat(9000) + '[{"image_id": "a"}]');
 * assert.equal(await startsWithArray(file), true);
 * await Deno.writeTextFile(file, '{"type": "FeatureCollection", "features": []}');
 * assert.equal(await startsWithArray(file), false);
 * await Deno.remove(file);
 * ```
 */
export async function startsWithArray(path: string): Promise<boolean> {
  using file = await Deno.open(path);
  const chunk = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let head = "";
  for (;;) {
    const n = await file.read(chunk);
    if (n === null) return looksLikeMmrotateJson(head);
    head = (head + decoder.decode(chunk.subarray(0, n), { stream: true })).replace(/^\uFEFF/, "")
      .trimStart();
    if (head.length > 0) return looksLikeMmrotateJson(head);
  }
}

/**
 * Reads `path` as detector results keyed by image id when it is such input
 * (`format` says so, or `auto` finds a folder of `Task1_<class>.txt` files, a
 * file of that name, or a `.json` file holding an array); `null` when it is a
 * per-image detection file, to be read as one. Unreadable records are
 * returned as issues; a file that cannot be read at all, or mmrotate boxes
 * without an angle convention, throw (an `AngleConventionError` for the latter).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readResults } from "./results_input.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/Task1_ship.txt`, "P0706 0.9 10 10 30 10 30 20 10 20\n");
 * const r = (await readResults(dir))!;
 * assert.equal(r.format, "task1");
 * assert.equal(r.byImage.get("P0706")![0]!.className, "ship");
 * assert.equal(await readResults(`${dir}/Task1_ship.txt`, { format: "dota" }), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readResults(
  path: string,
  options: ReadResultsOptions = {},
): Promise<ResultsByImage | null> {
  const { format } = options;
  const task1 = await task1Files(path, format);
  if (task1 !== null) {
    const source = task1.length === 1 ? task1[0]! : `${task1.length} Task1 files`;
    options.onReading?.(source, "the Task1 results");
    const byImage = new Map<string, Detection[]>();
    const issues: ParseIssue[] = [];
    for (const file of task1) {
      const parsed = parseDotaTask1(await Deno.readTextFile(file), {
        source: file,
        minScore: options.minScore,
      });
      // one at a time: spread into push's arguments, 150,000 issues overflow the stack
      for (const issue of parsed.issues) issues.push(issue);
      for (const [id, list] of parsed.byImage) {
        const kept = byImage.get(id);
        if (kept === undefined) byImage.set(id, list);
        else for (const d of list) kept.push(d);
      }
    }
    return { byImage, issues, source, what: "the Task1 results", format: "task1" };
  }
  const file = await mmrotateFile(path, format);
  if (file === null) return null;
  options.onReading?.(file.path, "the mmrotate results");
  const parsed = parseMmrotateJson(file.text, {
    source: file.path,
    angleConvention: options.angleConvention,
    classNames: options.classNames,
  });
  const { minScore } = options;
  if (minScore !== undefined) {
    for (const [id, list] of parsed.byImage) {
      parsed.byImage.set(id, list.filter((d) => d.score === null || d.score >= minScore));
    }
  }
  return {
    byImage: parsed.byImage,
    issues: parsed.issues,
    source: file.path,
    what: "the mmrotate results",
    format: "mmrotate-json",
    warnings: parsed.warnings,
  };
}

/**
 * The last results read, kept between the JSON-RPC server's requests: a client
 * segmenting image after image of one detector's results (a QGIS layer at a
 * time) would otherwise parse the whole results file, or folder of Task1
 * files, once per image. An entry is reused only while the path, the reading
 * options and every file read (name, size, modification time) are unchanged;
 * a read that throws is not kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResultsCache } from "./results_input.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/Task1_ship.txt`, "P0706 0.9 10 10 30 10 30 20 10 20\n");
 * const cache = new ResultsCache();
 * const a = await cache.read(dir);
 * assert.equal(await cache.read(dir), a); // parsed once
 * await Deno.writeTextFile(`${dir}/Task1_plane.txt`, "P0706 0.8 50 50 90 50 90 70 50 70\n");
 * assert.equal((await cache.read(dir))!.byImage.get("P0706")!.length, 2); // a new file: read again
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ResultsCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, { stamp: string; results: ResultsByImage | null }>();

  /**
   * @param capacity Results kept (the most recently used). Default: 1: parsed results take
   * memory (900,000 Task1 detections: about 560 MB), and a client works through one
   * detector's results at a time.
   */
  constructor(capacity = 1) {
    this.#capacity = Math.max(1, capacity);
  }

  /** {@linkcode readResults} of `path`, or the kept result of the same unchanged read. */
  async read(path: string, options: ReadResultsOptions = {}): Promise<ResultsByImage | null> {
    const key = JSON.stringify([
      path,
      options.format ?? "auto",
      options.angleConvention ?? null,
      options.classNames ?? null,
      options.minScore ?? null,
    ]);
    const stamp = await filesStamp(path);
    const hit = this.#entries.get(key);
    this.#entries.delete(key);
    if (hit !== undefined && stamp !== null && hit.stamp === stamp) {
      this.#entries.set(key, hit); // most recent last
      return hit.results;
    }
    const results = await readResults(path, options);
    // kept only when no file changed while it was read (a detector still writing them)
    if (stamp !== null && stamp === await filesStamp(path)) {
      this.#entries.set(key, { stamp, results });
      while (this.#entries.size > this.#capacity) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
    }
    return results;
  }
}

/**
 * Size and modification time of `path`, and of every file in it when it is a
 * folder (a Task1 folder's files are what is read); `null` when they cannot be
 * read or the file system gives no modification times.
 */
async function filesStamp(path: string): Promise<string | null> {
  try {
    const info = await Deno.stat(path);
    if (info.mtime === null) return null;
    if (!info.isDirectory) return `${info.size}|${info.mtime.getTime()}`;
    const parts: string[] = [];
    for (const file of await listFiles(path, () => true)) {
      const f = await Deno.stat(file);
      if (f.mtime === null) return null;
      parts.push(`${baseName(file)}|${f.size}|${f.mtime.getTime()}`);
    }
    return parts.sort().join("/");
  } catch {
    return null; // readResults reports the problem
  }
}

/** The image id of a patch cut by the DOTA split tools (DOTA_devkit, mmrotate). */
const PATCH_ID = /^.+__\d+(\.\d+)?__\d+___\d+$/;

/**
 * What to say about image ids of results that no image has: their number, the
 * first few, and a hint when they look like the patches of split images.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orphanIdsMessage } from "./results_input.ts";
 *
 * assert.match(orphanIdsMessage(["P0003__1024__0___0"], "the Task1 results"), /split images/);
 * ```
 */
export function orphanIdsMessage(orphans: readonly string[], what: string): string {
  const patches = orphans.filter((id) => PATCH_ID.test(id)).length;
  return `no image for ${orphans.length} image id(s) of ${what}: ${orphans.slice(0, 5).join(", ")}${
    orphans.length > 5 ? ", ..." : ""
  }` +
    (patches
      ? `; ${patches} of them look like patches of split images (<image>__<rate>__<x>___<y>), ` +
        `whose boxes are in the patch's pixels: segment the patch images, or have the ` +
        `detector merge its results per image (mmrotate: merge_patches=True, Task1 files)`
      : "");
}
