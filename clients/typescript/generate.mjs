// Types for the spec, as `make clients` and tests/test_typescript_client.py generate them.
// The Node API rather than the CLI, for two reasons: the CLI types `format: binary` as
// `string`, so a CV could not be sent as a Blob; and it lints with the root redocly.yaml,
// whose style rules (problem+json everywhere) the OAuth routes' RFC 6749 errors break by
// design. The Node API checks that the spec is valid, and no more.
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node generate.mjs <openapi.json> <output.d.ts>");
  process.exit(2);
}
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(pathToFileURL(input), {
  transform(schema) {
    if (schema.format === "binary") return BLOB;
    return undefined;
  },
});
await writeFile(output, astToString(ast));
