/**
 * `sopseg merge`: the output folders of a sharded run -> one output folder.
 *
 * @module
 */
import { mergeRuns } from "../pipeline/merge_runs.ts";
import { type CliIo, parseFlags, UsageError } from "./common.ts";

/** Usage text of the subcommand. */
export const MERGE_USAGE = `Usage: sopseg merge --out DIR SHARD_OUT...

Merges the output folders of "sopseg segment --shard I/N" (one per shard, every shard
given once) into DIR: one coco.json with ids renumbered and images and annotations in the
order a single run writes them, and the per-image GeoJSON or FlatGeobuf files (and
overlays) gathered. Refuses shards made with different models or options (each folder's
sopseg-run.json records them) and shards that have not finished.

Exit codes: 0 merged; 1 a shard has not finished or some of its images failed, the shards
read different detections (rerun the shards with --resume, then merge again), or a run is
writing into --out; 2 usage error, folders that are not the shards of one run (nothing
written), or a run that left input files out (named; the rest is merged): retrying will not
help.

Options:
  --out DIR      the merged output folder (not one of the shard folders)
  --quiet        no progress lines
`;

/** Run the subcommand; returns the exit code (0 merged, 2 merged without inputs left out). */
export async function mergeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(MERGE_USAGE);
    return 0;
  }
  if (!values.out) throw new UsageError("--out is required");
  if (positionals.length === 0) throw new UsageError("give the shards' output folders");
  const quiet = values.quiet ?? false;
  const started = performance.now();
  const summary = await mergeRuns(positionals, values.out, {
    onEvent: (e) => {
      if (e.kind === "warning") io.stderr(`sopseg: warning: ${e.message}\n`);
      else if (!quiet) {
        io.stderr(
          `sopseg: ${e.dir}: ${e.images} image(s), ${e.annotations} masks\n`,
        );
      }
    },
  });
  io.stderr(
    `sopseg: merged ${summary.shards} shard(s): ${summary.annotations} masks on ${summary.images} image(s) in ${
      ((performance.now() - started) / 1e3).toFixed(1)
    } s; wrote ${values.out}` +
      (summary.leftOut.length
        ? `; without the input file(s) the run left out (named above): a retry will not help`
        : "") +
      "\n",
  );
  return summary.leftOut.length ? 2 : 0;
}
