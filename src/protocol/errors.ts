/**
 * JSON-RPC error codes of the sopseg protocol and the error object the
 * server sends. The table is docs/PROTOCOL.md's; codes never change meaning.
 *
 * @module
 */
import { InputError, type InputErrorKind } from "../pipeline/input_error.ts";

/** Every error code the server sends, by name (docs/PROTOCOL.md, "Errors"). */
export const ERROR_CODES = {
  /** Not JSON, or not UTF-8. The response's id is null. */
  parseError: -32700,
  /** JSON, but not a JSON-RPC 2.0 request or notification (or a request after `shutdown`). */
  invalidRequest: -32600,
  /** No such method. */
  methodNotFound: -32601,
  /** Wrong or missing params; the message and `data.field` name the field. */
  invalidParams: -32602,
  /** A bug in the server; the server goes on. */
  internalError: -32603,
  /** The image is missing or not a readable GeoTIFF/PNG/JPEG. */
  imageUnreadable: -32001,
  /** The detection file is missing or cannot be read. */
  detectionsUnreadable: -32002,
  /** A detection record cannot be parsed; `data.issues` gives each line/feature. */
  detectionsMalformed: -32003,
  /** The path is outside the roots the server was started with; `data.flag` says which flag allows it. */
  pathNotAllowed: -32004,
  /** The `out` file could not be written. */
  outputUnwritable: -32005,
  /** The message line is longer than `--max-line-bytes`. The response's id is null. */
  lineTooLong: -32006,
  /** The request was cancelled by `$/cancelRequest`. */
  requestCancelled: -32800,
} as const;

const KIND_CODES: Record<InputErrorKind, number> = {
  "image-unreadable": ERROR_CODES.imageUnreadable,
  "detections-unreadable": ERROR_CODES.detectionsUnreadable,
  "detections-malformed": ERROR_CODES.detectionsMalformed,
  "path-not-allowed": ERROR_CODES.pathNotAllowed,
  "output-unwritable": ERROR_CODES.outputUnwritable,
};

/** The `error` member of a JSON-RPC error response. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/**
 * An error to answer a request with; handlers throw it.
 *
 * @example
 * ```ts
 * import { ERROR_CODES, RpcError } from "./errors.ts";
 * const e = RpcError.invalidParams("image", "must be a string");
 * if (e.code !== ERROR_CODES.invalidParams || e.data?.field !== "image") throw new Error();
 * ```
 */
export class RpcError extends Error {
  override name = "RpcError";
  /** The JSON-RPC error code. */
  readonly code: number;
  /** Structured details (`kind`, `field`, `path`, ...). */
  readonly data: Record<string, unknown> | undefined;

  constructor(code: number, message: string, data?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.data = data;
  }

  /** A -32602 error naming `field` (a dotted path like `detections.boxes[2].corners`). */
  static invalidParams(field: string, why: string): RpcError {
    return new RpcError(ERROR_CODES.invalidParams, `Invalid params: ${field} ${why}`, { field });
  }

  /** The error object as sent. */
  toJSON(): RpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/**
 * The error object for anything a handler threw: an {@linkcode RpcError} as
 * is, an {@linkcode InputError} by its kind (-32001..-32005), anything else
 * as -32603 (a bug: the message says what failed).
 *
 * @example
 * ```ts
 * import { toRpcError } from "./errors.ts";
 * import { InputError } from "../pipeline/input_error.ts";
 * const e = toRpcError(new InputError("image-unreadable", "Cannot open a.png: no such file", { path: "a.png" }));
 * if (e.code !== -32001 || e.data?.kind !== "image-unreadable") throw new Error(JSON.stringify(e));
 * ```
 */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof InputError) {
    const data: Record<string, unknown> = { kind: error.kind };
    if (error.path !== undefined) data.path = error.path;
    if (error.issues !== undefined) data.issues = error.issues;
    return new RpcError(KIND_CODES[error.kind], error.message, data);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RpcError(ERROR_CODES.internalError, `Internal error: ${message}`);
}
