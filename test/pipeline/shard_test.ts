import assert from "node:assert/strict";
import { assignShards, compareBytes, parseShard } from "../../src/pipeline/shard.ts";
import { schedulerIndexNote } from "../../src/cli/scheduler_env.ts";
import { mulberry32 as random } from "../../src/random.ts";

Deno.test("parseShard() takes INDEX/COUNT from 0 and names what is wrong", () => {
  assert.deepEqual(parseShard("0/1"), { index: 0, count: 1 });
  assert.deepEqual(parseShard("7/8"), { index: 7, count: 8 });
  assert.throws(() => parseShard("3/3"), /INDEX counts from 0 and must be below COUNT \(3\)/);
  assert.throws(() => parseShard("0/0"), /COUNT must be at least 1/);
  assert.throws(() => parseShard("0/9007199254740993"), /COUNT must be at most 9007199254740991/);
  for (const bad of ["1", "-1/3", "1/3/4", "a/b", "1.5/3", ""]) {
    assert.throws(() => parseShard(bad), /expected INDEX\/COUNT/, bad);
  }
});

Deno.test("compareBytes() orders UTF-8 bytes, not UTF-16 units or a locale", () => {
  assert.ok(compareBytes("Z", "a") < 0);
  assert.ok(compareBytes("a", "ab") < 0);
  assert.equal(compareBytes("é", "é"), 0);
  // U+FF5E (3 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 9F 98 80) byte-wise;
  // UTF-16 puts the surrogate pair (D83D) first.
  assert.ok(compareBytes("\uff5e", "\u{1f600}") < 0);
  assert.ok("\uff5e" > "\u{1f600}");
});

function shares(items: { name: string; detections: number }[], count: number) {
  const s = assignShards(items, count);
  return Array.from({ length: count }, (_, k) => items.filter((_, i) => s[i] === k));
}

Deno.test("assignShards() gives each image one shard, the same whatever the input order", () => {
  const rnd = random(7);
  const items = Array.from({ length: 200 }, (_, i) => ({
    name: `tile_${String(i).padStart(4, "0")}.png`,
    detections: Math.floor(rnd() ** 3 * 5000),
  }));
  const byName = (s: number[], list: typeof items) =>
    new Map(list.map((it, i) => [it.name, s[i]!]));
  const a = byName(assignShards(items, 7), items);
  const shuffled = [...items].sort(() => rnd() - 0.5);
  const b = byName(assignShards(shuffled, 7), shuffled);
  assert.deepEqual([...a].sort(), [...b].sort());
  assert.ok([...a.values()].every((s) => s >= 0 && s < 7));
});

Deno.test("assignShards() balances detections, not files", () => {
  // One scene with 50,000 boxes and 99 with 100: by file count a shard would get ~55,000.
  const items = [
    { name: "big.tif", detections: 50_000 },
    ...Array.from({ length: 99 }, (_, i) => ({ name: `s${i}.tif`, detections: 100 })),
  ];
  const [first, ...rest] = shares(items, 4).map((l) => l.reduce((n, i) => n + i.detections, 0));
  assert.equal(first, 50_000); // the big scene alone
  for (const load of rest) assert.ok(Math.abs(load - 3300) <= 100, String(load));
  // LPT is within 4/3 of the optimum; on random loads it is far closer.
  const rnd = random(3);
  const many = Array.from({ length: 500 }, (_, i) => ({
    name: `${i}`,
    detections: 1 + Math.floor(rnd() * 300),
  }));
  const loads = shares(many, 3).map((l) => l.reduce((n, i) => n + i.detections, 0));
  const total = loads.reduce((a, b) => a + b);
  assert.ok(Math.max(...loads) - total / 3 <= 300, loads.join());
});

Deno.test("assignShards() spreads images without detections and refuses duplicate names", () => {
  const empty = Array.from({ length: 6 }, (_, i) => ({ name: `e${i}`, detections: 0 }));
  assert.deepEqual(shares(empty, 3).map((l) => l.length), [2, 2, 2]);
  assert.deepEqual(assignShards([], 3), []);
  assert.deepEqual(assignShards([{ name: "a", detections: 9 }], 4), [0]);
  assert.throws(
    () => assignShards([{ name: "a", detections: 1 }, { name: "a", detections: 2 }], 2),
    /"a" appears twice/,
  );
});

Deno.test("schedulerIndexNote() names the scheduler and the --shard it would take", () => {
  assert.equal(schedulerIndexNote([], {}), null);
  assert.match(
    schedulerIndexNote([], { JOB_COMPLETION_INDEX: "4" })!,
    /JOB_COMPLETION_INDEX=4 .*Kubernetes.*--shard 4\/<completions>.*running over every image/,
  );
  assert.match(
    schedulerIndexNote([], {
      SLURM_ARRAY_TASK_ID: "5",
      SLURM_ARRAY_TASK_MIN: "1",
      SLURM_ARRAY_TASK_COUNT: "8",
    })!,
    /--shard 4\/8 would run its share \(the array starts at 1\)/,
  );
  assert.match(
    schedulerIndexNote(["--images", "x"], { AWS_BATCH_JOB_ARRAY_INDEX: "0" })!,
    /AWS Batch.*--shard 0\/<array size>/,
  );
  assert.equal(schedulerIndexNote(["--shard=1/2"], { SLURM_ARRAY_TASK_ID: "1" }), null);
  assert.equal(schedulerIndexNote(["--shard", "1/2"], { JOB_COMPLETION_INDEX: "1" }), null);
});
