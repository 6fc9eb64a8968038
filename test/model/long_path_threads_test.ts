/**
 * 2 WASM threads from a copy of sopseg in a long folder (the QGIS "Install
 * from ZIP" route puts it under ~/.local/share/QGIS/.../plugins/...).
 *
 * Such a copy used to hang: Emscripten stores the script's path in the WASM
 * environment, which shifts ORT's heap, and from some folders (84, 112, 115,
 * 127 characters) the main thread grew the shared WASM memory in the middle of
 * a run, a pthread worker then trapped on the new pages ("memory access out of
 * bounds") and died, and the main thread spun forever waiting for it
 * (src/model/ort_adapter.ts). Each check runs in a child process that is
 * killed after a deadline, so a regression fails here instead of hanging.
 */
import { assert } from "../_assert.ts";
import { dataTest, SHARED_DATA } from "../_data.ts";
import { scopedPermissions } from "../../src/cli/permissions.ts";

const root = new URL("../..", import.meta.url).pathname;
/** The folder length of a copy that hung every time on the old code. */
const FOLDER_LENGTH = 115;
const DATA = new URL(`file://${SHARED_DATA}`).pathname.replace(/\/$/, "");
const P1888 = {
  image: `${DATA}/dota-samples/images/P1888.png`,
  labels: `${DATA}/dota-samples/labelTxt/P1888.txt`,
};

async function copyTree(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (!info.isDirectory) {
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
}

/** Copies what `deno task serve` needs into a folder of {@linkcode FOLDER_LENGTH} characters. */
async function withLongCopy(fn: (dir: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "sopseg_long_path_" });
  try {
    const dir = `${base}/${"d".repeat(Math.max(8, FOLDER_LENGTH - base.length - 1))}`;
    await Deno.mkdir(`${dir}/models`, { recursive: true });
    for (const f of ["deno.json", "deno.lock", "launch.ts", "cli.ts", "mod.ts", "src"]) {
      await copyTree(`${root}${f}`, `${dir}/${f}`);
    }
    await copyTree(`${root}models/sopseg-lite`, `${dir}/models/sopseg-lite`);
    await fn(dir);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

/**
 * Runs `deno <args>` in `cwd` with `stdin` written (and left open); resolves
 * with stdout once `done(stdout)` holds, or kills the child after `seconds`
 * and fails. The child is always killed and reaped before this returns.
 */
async function runUntil(
  cwd: string,
  args: string[],
  stdin: string,
  done: (stdout: string) => boolean,
  seconds: number,
): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), seconds * 1000);
  });
  let finished = false;
  let timedOut = false;
  try {
    await writer.write(new TextEncoder().encode(stdin));
    while (!done(out)) {
      const r = await Promise.race([reader.read(), deadline]);
      if (r === "timeout") {
        timedOut = true;
        break;
      }
      if (r.done) break;
      out += r.value;
    }
    finished = done(out);
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await reader.cancel().catch(() => {});
    await writer.close().catch(() => {});
    await child.status;
  }
  if (!finished) {
    throw new Error(
      `${timedOut ? `no answer in ${seconds} s (the 2-thread WASM hang?)` : "exited early"}` +
        ` from \`deno ${args.join(" ")}\` (cwd ${cwd})\n--- stdout ---\n${out}\n` +
        `--- stderr ---\n${await stderr}`,
    );
  }
  await stderr;
  return out;
}

dataTest({
  name: "serve --threads 2 from a long folder answers a segment request of 64 boxes",
  needs: [P1888.image, P1888.labels],
  fn: async () => {
    await withLongCopy(async (dir) => {
      assert.equal(dir.length, FOLDER_LENGTH);
      // What `deno task serve` runs (launch.ts's child), started directly so a
      // hang can be killed: launch.ts would leave its child spinning.
      const serveArgs = [
        ...["--model", `${dir}/models/sopseg-lite`, "--read", `${DATA}/dota-samples`],
        ...["--backend", "wasm", "--threads", "2"],
      ];
      const env: Record<string, string> = {};
      for (const name of ["DENO_DIR", "HOME", "XDG_CACHE_HOME"]) {
        const v = Deno.env.get(name);
        if (v !== undefined) env[name] = v;
      }
      const flags = scopedPermissions("serve", serveArgs, env);
      const request = {
        jsonrpc: "2.0",
        id: 1,
        method: "segment",
        params: { image: P1888.image, detections: { path: P1888.labels } },
      };
      const isAnswer = (l: string) => l.includes('"id":1') && !l.includes('"method"');
      const out = await runUntil(
        dir,
        ["run", "--no-prompt", ...flags, `${dir}/cli.ts`, "serve", ...serveArgs],
        `${JSON.stringify(request)}\n`,
        (s) => s.split("\n").some(isAnswer),
        150,
      );
      const answer = JSON.parse(out.split("\n").find(isAnswer)!);
      assert.equal(answer.error, undefined, JSON.stringify(answer.error));
      assert.equal(answer.result.features.length, 64);
    });
  },
});

Deno.test("2 WASM threads from a long folder never grow ORT's memory inside a run", async () => {
  await withLongCopy(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/probe.ts`,
      `import { checkBatch, SopsegModel } from "./src/model/sopseg_model.ts";
import { wasmMemoryState } from "./src/model/ort_adapter.ts";
const model = await SopsegModel.load(new URL("./models/sopseg-lite", import.meta.url).pathname, {
  backend: "wasm",
  threads: 2,
});
for (const size of [8, 20]) await model.predict(checkBatch(model.manifest, size));
await model.close();
console.log(JSON.stringify(wasmMemoryState()));
`,
    );
    const out = await runUntil(
      dir,
      ["run", "-A", `${dir}/probe.ts`],
      "",
      (s) => s.includes("\n"),
      150,
    );
    const state = JSON.parse(out) as { bytes: number; growthsDuringRuns: number };
    assert.equal(state.growthsDuringRuns, 0, out);
    assert.ok(state.bytes >= 512 * 1024 * 1024, out);
  });
});
