// Introspection with standard tooling (graphql-js): POST the standard
// introspection query to a running server, rebuild the schema with
// `buildClientSchema`, and compare it with `schema/ontograph.graphql`.
//
// Usage: node check.mjs http://127.0.0.1:8080/graphql [path/to/schema.graphql]
// Exit 0 and "introspection: OK (N types)" when they match, 1 otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertValidSchema,
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';

const here = path.dirname(fileURLToPath(import.meta.url));
const url = process.argv[2];
const sdlPath = process.argv[3] ?? path.resolve(here, '../../schema/ontograph.graphql');

function fail(message) {
  console.error(`introspection: FAILED: ${message}`);
  process.exit(1);
}

if (!url) fail('usage: node check.mjs URL [SCHEMA_FILE]');

// Every optional part of the introspection query the server supports, so
// nothing in the SDL (descriptions, @oneOf, @specifiedBy, repeatable
// directives, deprecated arguments) goes unchecked. `schemaDescription` is
// left out: async-graphql answers `__schema { description }` with a fixed
// text about `__Schema` itself, which is not part of the SDL.
const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  inputValueDeprecation: true,
  oneOf: true,
});

let body;
try {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 200) fail(`HTTP ${res.status}: ${text.slice(0, 2000)}`);
  body = JSON.parse(text);
} catch (e) {
  fail(`request to ${url} failed: ${e.message}`);
}
if (body.errors?.length) fail(`introspection returned errors: ${JSON.stringify(body.errors, null, 2)}`);
if (!body.data?.__schema) fail(`no data.__schema in the response: ${JSON.stringify(body).slice(0, 2000)}`);

let live;
let file;
try {
  live = buildClientSchema(body.data);
  assertValidSchema(live);
} catch (e) {
  fail(`the introspection result is not a valid schema: ${e.message}`);
}
try {
  file = buildSchema(fs.readFileSync(sdlPath, 'utf8'));
  assertValidSchema(file);
} catch (e) {
  fail(`${sdlPath} is not a valid schema: ${e.message}`);
}

const print = (schema) => printSchema(lexicographicSortSchema(schema));
const got = print(live);
const want = print(file);

if (got !== want) {
  // The differing region, with a little context: enough to see what changed.
  const a = want.split('\n');
  const b = got.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length - 1;
  let endB = b.length - 1;
  while (endA >= start && endB >= start && a[endA] === b[endB]) {
    endA--;
    endB--;
  }
  const from = Math.max(0, start - 3);
  const show = (lines, end, sign) =>
    lines.slice(start, Math.min(end + 1, start + 40)).map((l) => `${sign} ${l}`);
  console.error(`introspection: MISMATCH between ${sdlPath} (-) and ${url} (+), from line ${start + 1}:`);
  console.error(
    [...a.slice(from, start).map((l) => `  ${l}`), ...show(a, endA, '-'), ...show(b, endB, '+')].join('\n'),
  );
  process.exit(1);
}

const count = Object.keys(live.getTypeMap()).filter((name) => !name.startsWith('__')).length;
console.log(`introspection: OK (${count} types)`);
process.exit(0);
