/**
 * `sopseg serve`: the JSON-RPC 2.0 server on stdin/stdout for GIS plugins
 * and other programs (docs/PROTOCOL.md). Loads the model once, then answers
 * requests until `exit` or the end of stdin. stdout carries protocol messages
 * only; notes go to stderr.
 *
 * @module
 */
import { DEFAULT_MODEL_DIR } from "../model/default_model.ts";
import { SopsegModel } from "../model/sopseg_model.ts";
import { DEFAULT_MAX_LINE_BYTES } from "../protocol/line_reader.ts";
import { PathRoots } from "../protocol/path_roots.ts";
import { serveJsonRpc } from "../protocol/server.ts";
import { sopsegMethods } from "../protocol/sopseg_methods.ts";
import {
  backendFlag,
  type CliIo,
  intFlag,
  parseFlags,
  smallGraphsFlag,
  TTA_USAGE,
  ttaFlag,
} from "./common.ts";

/** Usage text of the subcommand. */
export const SERVE_USAGE = `Usage: sopseg serve [--read DIR]... [--write DIR]... [options]

JSON-RPC 2.0 on stdin/stdout, one message per line (docs/PROTOCOL.md). Requests may read
images and detection files under the --read folders and write under the --write folders.

Options:
  --read DIR              a folder requests may read (repeatable)
  --write DIR             a folder requests may write "out" files to (repeatable; also readable)
  --model DIR             model directory (default: models/sopseg-lite)
  --backend B             auto (default), wasm, webgpu
  --threads N             WASM threads (default: all cores)
  --batch N               crops per model call (default: 8)
  --small-graphs on|off|N run small crops on the model's smaller, faster graphs (default: the
                          model's choice, small_graphs.default in its manifest); N: on, for
                          the crops up to N px
${TTA_USAGE}
  --max-line-bytes N      longest request line (default: ${DEFAULT_MAX_LINE_BYTES})
`;

/**
 * Writes all of `bytes` to stdout (a pipe may take fewer at a time). A client
 * gone (a broken pipe) ends the process with code 1 and one line on stderr:
 * nobody is left to answer.
 */
async function writeStdout(bytes: Uint8Array): Promise<void> {
  try {
    while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    console.error("sopseg serve: the client closed its end of stdout; exiting");
    Deno.exit(1);
  }
}

/** Run the subcommand; returns the exit code (0 after shutdown + exit or end of input). */
export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      read: { type: "string", multiple: true },
      write: { type: "string", multiple: true },
      model: { type: "string" },
      backend: { type: "string" },
      threads: { type: "string" },
      batch: { type: "string" },
      "small-graphs": { type: "string" },
      tta: { type: "string" },
      "max-line-bytes": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(SERVE_USAGE);
    return 0;
  }
  const backend = backendFlag(values.backend);
  const threads = intFlag("threads", values.threads, navigator.hardwareConcurrency ?? 1);
  const batchSize = intFlag("batch", values.batch, 8);
  const maxLineBytes = intFlag("max-line-bytes", values["max-line-bytes"], DEFAULT_MAX_LINE_BYTES);
  const roots = new PathRoots({ read: values.read ?? [], write: values.write ?? [] });
  const log = (m: string) => io.stderr(`sopseg serve: ${m}\n`);
  // stdout is the protocol channel: anything a dependency would print there goes to stderr.
  console.log = console.info = console.debug = (...data: unknown[]) => console.error(...data);

  const model = await SopsegModel.load(values.model ?? DEFAULT_MODEL_DIR, {
    backend,
    threads,
    smallGraphs: smallGraphsFlag("small-graphs", values["small-graphs"]),
    tta: ttaFlag(values.tta),
    onLog: log,
  });
  const small = model.manifest.smallGraphs;
  const graphs = small
    ? ` (small graphs at ${small.inputSize} for crops up to ${small.maxCropSide} px)`
    : "";
  log(
    `ready: model ${model.manifest.name}${graphs} on ${model.backend}; read ${
      roots.read.join(", ") || "(nothing)"
    }; write ${roots.write.join(", ") || "(nothing)"}`,
  );
  // Every graph set's sessions open now, while the client starts up, not on its first
  // request (a model with small graphs opens none at load); requests queue behind it.
  const opening = model.openGraphSets().catch((e) =>
    log(`cannot open the model's sessions yet: ${(e as Error).message}`)
  );
  const { methods, close } = sopsegMethods({ model, roots, batchSize, maxLineBytes });
  const enc = new TextEncoder();
  try {
    const code = await serveJsonRpc(Deno.stdin.readable, (line) => writeStdout(enc.encode(line)), {
      methods,
      maxLineBytes,
      onLog: log,
    });
    log(`exiting with code ${code}`);
    return code;
  } finally {
    await opening;
    await close();
    await model.close();
  }
}
