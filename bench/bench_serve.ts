/**
 * One measurement of the JSON-RPC server (`cli.ts serve`, the shipped model)
 * in its own process, printing one JSON line on stdout: the round-trip time
 * of a one-box `segment` request on a warm server (each request sent after
 * the previous answer), median and p95, and the server's resident memory
 * (VmRSS) after 10 and after all requests.
 *
 *     deno run -A bench/bench_serve.ts --backend wasm --threads 2 --requests 1000
 *
 * The boxes are the 64 DOTA boxes of P1888 in turn, on P1888.png (read in
 * place from ../shared/data; the server keeps the decoded image open).
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "wasm" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    requests: { type: "string", default: "1000" },
  },
});
const root = new URL("..", import.meta.url).pathname;
const data = new URL(`file://${root}../shared/data`).pathname;
const image = `${data}/dota-samples/images/P1888.png`;
const boxes = (await Deno.readTextFile(`${data}/dota-samples/labelTxt/P1888.txt`))
  .split("\n")
  .map((l) => l.trim().split(/\s+/))
  .filter((f) => f.length >= 9 && f.slice(0, 8).every((v) => Number.isFinite(Number(v))))
  .map((f) => {
    const v = f.slice(0, 8).map(Number);
    return { corners: [[v[0], v[1]], [v[2], v[3]], [v[4], v[5]], [v[6], v[7]]], class: f[8] };
  });

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    `${root}cli.ts`,
    "serve",
    "--read",
    data,
    "--backend",
    values.backend!,
    "--threads",
    values.threads!,
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const writer = child.stdin.getWriter();
const enc = new TextEncoder();
const lines = (async function* () {
  let buffer = "";
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
})();

let nextId = 1;
async function call(method: string, params?: unknown) {
  const id = nextId++;
  await writer.write(enc.encode(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`));
  const r = await lines.next();
  if (r.done) throw new Error("the server closed stdout");
  const m = JSON.parse(r.value);
  if (m.id !== id || m.error) throw new Error(`unexpected answer: ${r.value.slice(0, 500)}`);
  return m.result;
}

function rssMb(): number {
  const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

const init = await call("initialize", {});
const total = Number(values.requests);
const times: number[] = [];
let rss10 = NaN;
for (let i = 0; i < total; i++) {
  const t0 = performance.now();
  const fc = await call("segment", { image, detections: { boxes: [boxes[i % boxes.length]] } });
  const ms = performance.now() - t0;
  if (fc.features.length !== 1) throw new Error(`expected 1 feature, got ${fc.features.length}`);
  if (i >= 10) times.push(ms); // the first 10 warm the server up (image decode, sessions)
  if (i === 9) rss10 = rssMb();
}
const rssEnd = rssMb();
await call("shutdown");
await writer.write(enc.encode('{"jsonrpc":"2.0","method":"exit"}\n'));
await writer.close();
await child.status;
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
console.log(JSON.stringify({
  backend: init.backend,
  threads: Number(values.threads),
  requests: total,
  timed: times.length,
  medianMs: at(0.5),
  p95Ms: at(0.95),
  rss10Mb: rss10,
  rssEndMb: rssEnd,
}));
