/**
 * The protocol's JSON Schema (docs/protocol.schema.json) through Ajv: the one
 * file of the tests that imports it.
 */
import { Ajv2020 } from "ajv/dist/2020.js";

const schema = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/protocol.schema.json", import.meta.url)),
);
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addSchema(schema);

/** Names of the schema's definitions, e.g. `SegmentResponse`. */
export type SchemaDef = string;

/** Throws unless `message` is valid against `#/$defs/<def>`, listing Ajv's complaints. */
export function assertSchema(def: SchemaDef, message: unknown): void {
  const validate = ajv.getSchema(`${schema.$id}#/$defs/${def}`);
  if (!validate) throw new Error(`Cannot validate: no definition ${def} in the schema`);
  if (!validate(message)) {
    const text = JSON.stringify(message);
    throw new Error(
      `Message is not a valid ${def}: ${ajv.errorsText(validate.errors, { separator: "; " })}\n${
        text.length > 2000 ? `${text.slice(0, 2000)}...` : text
      }`,
    );
  }
}
