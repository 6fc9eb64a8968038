/**
 * The JSON-RPC 2.0 server loop over a byte stream: one message per line in,
 * one per line out. Requests are answered strictly in the order they arrive
 * (errors for unreadable lines included), one at a time; `$/cancelRequest` is
 * acted on as soon as it is read, even while a request runs; `shutdown` and
 * `exit` end the session, and so does the end of the input once every request
 * read before it is answered.
 *
 * @module
 */
import { ERROR_CODES, RpcError, toRpcError } from "./errors.ts";
import { DEFAULT_MAX_LINE_BYTES, readLines } from "./line_reader.ts";
import {
  errorLine,
  notificationLine,
  parseMessage,
  type RequestId,
  resultLine,
} from "./messages.ts";

/** What a method handler gets besides its params. */
export interface MethodCall {
  /** The request id. */
  id: RequestId;
  /** Aborted when the client cancels the request. */
  signal: AbortSignal;
  /** Sends a `$/progress` notification `{ id, done, total }`. */
  progress: (done: number, total: number) => void;
  /** Sends a `$/warning` notification `{ id, message }`. */
  warn: (message: string) => void;
}

/** A method: params in, result out (or an error thrown; see {@linkcode toRpcError}). */
export type MethodHandler = (params: unknown, call: MethodCall) => Promise<unknown>;

/** Options of {@linkcode serveJsonRpc}. */
export interface ServeJsonRpcOptions {
  /** The methods by name; `shutdown` is the server's own. */
  methods: Readonly<Record<string, MethodHandler>>;
  /** Longest message line in bytes. Default: {@linkcode DEFAULT_MAX_LINE_BYTES}. */
  maxLineBytes?: number;
  /** Receives one-line notes for the log (stderr), never protocol. Default: ignored. */
  onLog?: (message: string) => void;
}

type Job =
  | { kind: "request"; id: RequestId; method: string; params: unknown; controller: AbortController }
  | { kind: "error"; id: RequestId | null; error: RpcError }
  | { kind: "exit" };

/**
 * Serves `input` until `exit` or the end of the input and returns the exit
 * code: 0 after `exit` preceded by `shutdown` or at the end of the input, 1
 * after `exit` without `shutdown`. Every output line goes through `write`,
 * one call per message, in order.
 *
 * @example
 * ```ts
 * import { serveJsonRpc } from "./server.ts";
 * const lines = [
 *   '{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":1}}',
 *   '{"jsonrpc":"2.0","id":2,"method":"nope"}',
 *   '{"jsonrpc":"2.0","id":3,"method":"shutdown"}',
 *   '{"jsonrpc":"2.0","method":"exit"}',
 * ];
 * const input = ReadableStream.from([new TextEncoder().encode(lines.join("\n") + "\n")]);
 * const out: string[] = [];
 * const code = await serveJsonRpc(input, (l) => void out.push(l), {
 *   methods: { echo: async (params) => params },
 * });
 * if (code !== 0 || out.length !== 3) throw new Error(out.join(""));
 * if (JSON.parse(out[1]!).error.code !== -32601) throw new Error(out[1]);
 * ```
 */
export async function serveJsonRpc(
  input: ReadableStream<Uint8Array>,
  write: (line: string) => void | Promise<void>,
  options: ServeJsonRpcOptions,
): Promise<number> {
  const log = options.onLog ?? (() => {});
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const queue: Job[] = [];
  let eof = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  let current: Extract<Job, { kind: "request" }> | null = null;

  // Writes go through one chain so that progress notifications sent from a
  // synchronous callback still come out in order, before the response.
  let chain: Promise<void> = Promise.resolve();
  const send = (line: string): Promise<void> => {
    chain = chain.then(() => write(line));
    return chain;
  };

  const cancel = (params: unknown) => {
    const id = (params as { id?: unknown } | undefined)?.id;
    if (typeof id !== "string" && typeof id !== "number") {
      log("$/cancelRequest without a string or number id: ignored");
      return;
    }
    let found = false;
    for (const job of current ? [current, ...queue] : queue) {
      if (job.kind === "request" && job.id === id) {
        job.controller.abort(new RpcError(ERROR_CODES.requestCancelled, "Request cancelled"));
        found = true;
      }
    }
    if (!found) log(`$/cancelRequest for ${JSON.stringify(id)}: no such request pending`);
  };

  const reader = (async () => {
    try {
      for await (const chunk of readLines(input, { maxLineBytes })) {
        if (chunk.kind === "too-long") {
          queue.push({
            kind: "error",
            id: null,
            error: new RpcError(
              ERROR_CODES.lineTooLong,
              `Cannot read message on line ${chunk.number}: it is ${chunk.bytes} bytes, over the limit of ${maxLineBytes} (--max-line-bytes)`,
              {
                kind: "line-too-long",
                line: chunk.number,
                bytes: chunk.bytes,
                limit: maxLineBytes,
              },
            ),
          });
          notify();
          continue;
        }
        const m = parseMessage(chunk.bytes);
        switch (m.kind) {
          case "blank":
            continue;
          case "invalid":
            queue.push({ kind: "error", id: m.id, error: m.error });
            break;
          case "notification":
            if (m.method === "$/cancelRequest") cancel(m.params);
            else if (m.method === "exit") queue.push({ kind: "exit" });
            else log(`notification ${m.method}: not handled, ignored`);
            break;
          case "request":
            queue.push({ ...m, kind: "request", controller: new AbortController() });
            break;
        }
        notify();
      }
    } catch (e) {
      log(`reading stdin failed: ${(e as Error).message}; finishing`);
    } finally {
      eof = true;
      notify();
    }
  })();

  let shutdown = false;
  const run = async (job: Extract<Job, { kind: "request" }>) => {
    const { id, method, controller } = job;
    if (controller.signal.aborted) {
      return await send(errorLine(id, toRpcError(controller.signal.reason).toJSON()));
    }
    if (shutdown) {
      const e = new RpcError(
        ERROR_CODES.invalidRequest,
        `Invalid request: ${method} after shutdown (only the exit notification is accepted)`,
      );
      return await send(errorLine(id, e.toJSON()));
    }
    if (method === "shutdown") {
      shutdown = true;
      return await send(resultLine(id, null));
    }
    const handler = Object.hasOwn(options.methods, method) ? options.methods[method] : undefined;
    if (!handler && (method === "exit" || method === "$/cancelRequest")) {
      const e = new RpcError(
        ERROR_CODES.invalidRequest,
        `Invalid request: ${method} is a notification: send it without an id`,
      );
      return await send(errorLine(id, e.toJSON()));
    }
    if (!handler) {
      const known = ["shutdown", ...Object.keys(options.methods)].sort().join(", ");
      const e = new RpcError(
        ERROR_CODES.methodNotFound,
        `Method not found: ${method} (methods: ${known}, exit)`,
        { method },
      );
      return await send(errorLine(id, e.toJSON()));
    }
    try {
      const result = await handler(job.params, {
        id,
        signal: controller.signal,
        progress: (done, total) => void send(notificationLine("$/progress", { id, done, total })),
        warn: (message) => void send(notificationLine("$/warning", { id, message })),
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      await send(resultLine(id, result ?? null));
    } catch (e) {
      const error = controller.signal.aborted
        ? toRpcError(controller.signal.reason)
        : toRpcError(e);
      if (error.code === ERROR_CODES.internalError) {
        log(`${method} (id ${JSON.stringify(id)}) failed: ${(e as Error)?.stack ?? e}`);
      }
      await send(errorLine(id, error.toJSON()));
    }
  };

  while (true) {
    const job = queue.shift();
    if (job === undefined) {
      if (eof) break;
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    if (job.kind === "exit") {
      await chain;
      return shutdown ? 0 : 1;
    }
    if (job.kind === "error") {
      await send(errorLine(job.id, job.error.toJSON()));
      continue;
    }
    current = job;
    try {
      await run(job);
    } finally {
      current = null;
    }
  }
  await reader;
  await chain;
  return 0;
}
