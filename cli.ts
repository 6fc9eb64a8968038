/**
 * The sopseg command line. Parses the subcommand, runs it, maps outcomes to
 * exit codes a batch scheduler can act on: 0 all went well, 1 some inputs
 * failed (each reported on stderr; a retry may help), 2 usage or configuration
 * errors (a retry will not help: bad flags, `--resume` into a folder made with
 * other settings, `merge` of folders that are not one run's shards, input
 * files a run left out, which `segment` and `merge` return once the rest is
 * written) (`serve`: 0
 * after shutdown + exit or the end of stdin, 1 after exit without shutdown).
 * The only place that calls `Deno.exit`.
 *
 *     deno task segment --images DIR --detections DIR --out DIR
 *
 * @module
 */
import { processIo, UsageError } from "./src/cli/common.ts";
import { SEGMENT_USAGE, segmentCommand } from "./src/cli/segment.ts";
import { EVAL_USAGE, evalCommand } from "./src/cli/eval.ts";
import { SERVE_USAGE, serveCommand } from "./src/cli/serve.ts";
import { MERGE_USAGE, mergeCommand } from "./src/cli/merge.ts";
import { readSchedulerEnv, schedulerIndexNote } from "./src/cli/scheduler_env.ts";
import { flagValues } from "./src/cli/permissions.ts";
import { RunRecordError } from "./src/pipeline/run_record.ts";
import { RunSetupError } from "./src/pipeline/segment_run.ts";

const USAGE = `Usage: sopseg <command> [options]
("sopseg" is "deno task" in this folder, which runs each command with only the permissions it
needs: deno task segment ...; or deno run -A cli.ts segment ...)

Commands:
  segment   oriented detections + imagery -> instance masks (GeoJSON, COCO)
  eval      masks vs COCO ground truth: IoU and Boundary IoU per class
  serve     JSON-RPC 2.0 server on stdin/stdout for GIS plugins (docs/PROTOCOL.md)
  merge     the output folders of a sharded segment run -> one (docs/SCALE.md)

Run "deno task <command> --help" for a command's options.
`;

const COMMANDS: Record<string, { run: typeof segmentCommand; usage: string }> = {
  segment: { run: segmentCommand, usage: SEGMENT_USAGE },
  eval: { run: evalCommand, usage: EVAL_USAGE },
  serve: { run: serveCommand, usage: SERVE_USAGE },
  merge: { run: mergeCommand, usage: MERGE_USAGE },
};

async function main(args: string[]): Promise<number> {
  const io = processIo();
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h") {
    io.stdout(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`sopseg: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (name === "segment") {
    // Run directly (deno run -A): the launcher, which says this itself, grants no env reads.
    const note = schedulerIndexNote(rest, readSchedulerEnv());
    if (note !== null) io.stderr(`${note}\n`);
    sayWhenStopped(rest, io);
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      // what is wrong, not buried under the options: those are a --help away
      io.stderr(
        `sopseg ${name}: ${e.message}\nRun "deno task ${name} --help" for its options.\n`,
      );
      return 2;
    }
    if (e instanceof RunRecordError || e instanceof RunSetupError) {
      io.stderr(`sopseg ${name}: error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof Deno.errors.NotCapable) {
      io.stderr(
        `sopseg ${name}: ${
          (e as Error).message
        }\n(the task grants reads of the inputs and the model and writes of --out only)\n`,
      );
      return 2;
    }
    io.stderr(`sopseg ${name}: error: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * A segment run stopped by SIGINT or SIGTERM says so, and how to go on, before it ends with the
 * signal's exit status (128 + its number): otherwise its last line is a progress line. The
 * images written are whole (temporary file, then rename); `--resume` skips them.
 */
function sayWhenStopped(args: readonly string[], io: { stderr(text: string): void }): void {
  const out = flagValues(args, "out").at(-1);
  const next = out === undefined || out === "-"
    ? ""
    : `; the images finished are in ${out}: run the same command with --resume to go on`;
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    try {
      Deno.addSignalListener(signal, () => {
        io.stderr(`\nsopseg segment: stopped by ${signal}${next}\n`);
        Deno.exit(code);
      });
    } catch {
      // not a signal this platform has
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
