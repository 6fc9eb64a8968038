import assert from "node:assert/strict";
import { normalizeClassName, TrainingClasses } from "../../src/model/model_classes.ts";

Deno.test("TrainingClasses.canonical() matches names and aliases after normalising", () => {
  const c = new TrainingClasses([
    { name: "small_vehicle", aliases: ["car", "Small Car"] },
    { name: "harbor", aliases: ["harbour"] },
  ]);
  assert.equal(c.canonical("SMALL-VEHICLE"), "small_vehicle");
  assert.equal(c.canonical("small car"), "small_vehicle");
  assert.equal(c.canonical("Harbour"), "harbor");
  assert.equal(c.canonical("bridge"), null);
  assert.equal(c.has(""), false);
  assert.equal(normalizeClassName("  a -_ b "), "a_b");
});

Deno.test("TrainingClasses rejects an alias that names two classes", () => {
  assert.throws(
    () =>
      new TrainingClasses([
        { name: "plane", aliases: ["craft"] },
        { name: "ship", aliases: ["craft"] },
      ]),
    /"craft" names both plane and ship/,
  );
});

Deno.test("TrainingClasses.flag() says nothing for bare class ids and empty names", () => {
  const c = new TrainingClasses([{ name: "ship", aliases: [] }]);
  assert.equal(c.flag("Ship"), true);
  assert.equal(c.flag("bridge"), false);
  assert.equal(c.flag("3"), undefined);
  assert.equal(c.flag(" "), undefined);
});

Deno.test("TrainingClasses.promptIndex() gives the manifest id of a name or alias, null otherwise", () => {
  const classes = new TrainingClasses([
    { id: 9, name: "small_vehicle", aliases: ["car"] },
    { id: 15, name: "harbor", aliases: ["harbour"] },
    { name: "no_id", aliases: [] },
  ]);
  assert.equal(classes.promptIndex("Small-Vehicle"), 9);
  assert.equal(classes.promptIndex("car"), 9);
  assert.equal(classes.promptIndex("HARBOUR"), 15);
  assert.equal(classes.promptIndex("container-crane"), null);
  assert.equal(classes.promptIndex(""), null);
  assert.equal(classes.promptIndex("no_id"), null);
});
