/**
 * JSON-RPC 2.0 messages: one line in, a validated request or notification
 * (or the error to answer it with); results, errors and notifications out,
 * each one line of JSON.
 *
 * @module
 */
import { ERROR_CODES, RpcError, type RpcErrorObject } from "./errors.ts";

/** A request id: a string or a number (`null` only in error responses to unreadable messages). */
export type RequestId = string | number;

/** What one input line is. */
export type IncomingMessage =
  | { kind: "request"; id: RequestId; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "invalid"; id: RequestId | null; error: RpcError }
  | { kind: "blank" };

const decoder = new TextDecoder("utf-8", { fatal: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function validId(v: unknown): v is RequestId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/**
 * Reads one line as a JSON-RPC 2.0 message. Invalid UTF-8 or JSON is a
 * -32700 error with id null; anything that is not a request or notification
 * is a -32600 error (with the message's id when it has a valid one). Lines of
 * only whitespace are `blank` and get no answer. `params`, when absent, is
 * `undefined`.
 *
 * @example
 * ```ts
 * import { parseMessage } from "./messages.ts";
 * const enc = new TextEncoder();
 * const m = parseMessage(enc.encode('{"jsonrpc":"2.0","id":1,"method":"shutdown"}'));
 * if (m.kind !== "request" || m.method !== "shutdown") throw new Error(m.kind);
 * const bad = parseMessage(enc.encode("{oops"));
 * if (bad.kind !== "invalid" || bad.error.code !== -32700 || bad.id !== null) throw new Error();
 * ```
 */
export function parseMessage(bytes: Uint8Array): IncomingMessage {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return {
      kind: "invalid",
      id: null,
      error: new RpcError(ERROR_CODES.parseError, "Parse error: the line is not valid UTF-8"),
    };
  }
  if (text.trim() === "") return { kind: "blank" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return {
      kind: "invalid",
      id: null,
      error: new RpcError(ERROR_CODES.parseError, `Parse error: ${(e as Error).message}`),
    };
  }
  const invalid = (id: RequestId | null, why: string): IncomingMessage => ({
    kind: "invalid",
    id,
    error: new RpcError(ERROR_CODES.invalidRequest, `Invalid request: ${why}`),
  });
  if (Array.isArray(value)) return invalid(null, "batches (arrays of messages) are not supported");
  if (!isRecord(value)) return invalid(null, "a message must be a JSON object");
  const hasId = "id" in value;
  if (hasId && !validId(value.id)) return invalid(null, "id must be a string or a number");
  const id = hasId ? value.id as RequestId : null;
  if (value.jsonrpc !== "2.0") return invalid(id, 'jsonrpc must be "2.0"');
  if (typeof value.method !== "string") return invalid(id, "method must be a string");
  if ("params" in value && !(isRecord(value.params) || Array.isArray(value.params))) {
    return invalid(id, "params must be an object or an array");
  }
  const params = value.params;
  return hasId
    ? { kind: "request", id: id!, method: value.method, params }
    : { kind: "notification", method: value.method, params };
}

/**
 * A success response as one line.
 *
 * @example
 * ```ts
 * import { resultLine } from "./messages.ts";
 * if (resultLine(1, null) !== '{"jsonrpc":"2.0","id":1,"result":null}\n') throw new Error();
 * ```
 */
export function resultLine(id: RequestId, result: unknown): string {
  return `${JSON.stringify({ jsonrpc: "2.0", id, result })}\n`;
}

/**
 * An error response as one line.
 *
 * @example
 * ```ts
 * import { errorLine } from "./messages.ts";
 * const line = errorLine(null, { code: -32700, message: "Parse error: x" });
 * if (JSON.parse(line).id !== null) throw new Error(line);
 * ```
 */
export function errorLine(id: RequestId | null, error: RpcErrorObject): string {
  return `${JSON.stringify({ jsonrpc: "2.0", id, error })}\n`;
}

/**
 * A notification as one line.
 *
 * @example
 * ```ts
 * import { notificationLine } from "./messages.ts";
 * const line = notificationLine("$/progress", { id: 3, done: 8, total: 64 });
 * if (JSON.parse(line).method !== "$/progress") throw new Error(line);
 * ```
 */
export function notificationLine(method: string, params: unknown): string {
  return `${JSON.stringify({ jsonrpc: "2.0", method, params })}\n`;
}
