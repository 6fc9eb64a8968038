/**
 * What went wrong with a caller's input, as a stable kind that every front
 * end can map to its own outcome (the CLI to a message and an exit code, the
 * JSON-RPC server to an error code; docs/PROTOCOL.md).
 *
 * @module
 */

/** The kinds of input failure, stable names that front ends and clients may rely on. */
export const INPUT_ERROR_KINDS = [
  "image-unreadable",
  "detections-unreadable",
  "detections-malformed",
  "path-not-allowed",
  "output-unwritable",
] as const;

/**
 * One of {@linkcode INPUT_ERROR_KINDS}:
 * - `image-unreadable`: the image is missing, not a file, or not a readable GeoTIFF/PNG/JPEG;
 * - `detections-unreadable`: the detection file is missing or cannot be read;
 * - `detections-malformed`: a detection record could not be parsed (the issues say where);
 * - `path-not-allowed`: the process may not read or write the path (Deno permissions);
 * - `output-unwritable`: the output could not be written.
 */
export type InputErrorKind = typeof INPUT_ERROR_KINDS[number];

/** Where a malformed detection is: its source, line (text formats) or feature (GeoJSON). */
export interface InputIssue {
  /** The file path, or a name like `<request>` for text given inline. */
  source: string;
  /** 1-based line; 0 when the format has no lines. */
  line: number;
  /** 0-based GeoJSON feature index, when the format has features. */
  feature?: number;
  /** What is wrong with the record. */
  message: string;
}

/** Options of the {@linkcode InputError} constructor. */
export interface InputErrorOptions {
  /** The path the failure is about. Default: none. */
  path?: string;
  /** The malformed records. Default: none. */
  issues?: InputIssue[];
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An input failure with a {@linkcode InputErrorKind}; the message follows
 * "Cannot <do what>: <why>" and names the path or line.
 *
 * @example
 * ```ts
 * import { InputError } from "./input_error.ts";
 * const e = new InputError("image-unreadable", "Cannot open a.png: no such file", { path: "a.png" });
 * if (e.kind !== "image-unreadable" || e.path !== "a.png") throw new Error();
 * ```
 */
export class InputError extends Error {
  override name = "InputError";
  /** What kind of failure. */
  readonly kind: InputErrorKind;
  /** The path concerned, when there is one. */
  readonly path: string | undefined;
  /** The malformed records, for `detections-malformed`. */
  readonly issues: InputIssue[] | undefined;

  constructor(kind: InputErrorKind, message: string, options: InputErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.path = options.path;
    this.issues = options.issues;
  }
}
