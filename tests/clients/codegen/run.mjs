// GraphQL Code Generator against the real server:
// node codegen/run.mjs http://HOST/graphql
// Generates types with the docs' codegen.yml (typescript +
// typescript-operations, DateTime → string, JSON → unknown, strict
// scalars) for the operations in operations/, then `tsc --noEmit` checks
// usage.ts against them. The old root type names are reproduced on a copy
// of the schema: codegen then names arguments `MutationRootCreateBranchArgs`.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';

import { assert, check, done, post } from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = (name) => path.resolve(here, '../node_modules/.bin', name);
const url = process.argv[2];
const config = path.resolve(here, '../snippets/codegen.yml');

function run(command, args, env = {}) {
  const out = spawnSync(command, args, { cwd: here, encoding: 'utf8', env: { ...process.env, ...env } });
  return { ok: out.status === 0, text: `${out.stdout}${out.stderr}` };
}

await check('reproduced: with root types named QueryRoot/MutationRoot, codegen names MutationRootCreateBranchArgs', async () => {
  const sdl = printSchema(buildClientSchema(await post(url, getIntrospectionQuery())))
    .replace(/^type (Query|Mutation|Subscription) /gm, 'type $1Root ')
    .concat('\nschema { query: QueryRoot mutation: MutationRoot subscription: SubscriptionRoot }\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codegen-old-'));
  fs.writeFileSync(path.join(dir, 'schema.graphql'), sdl);
  const yml = fs.readFileSync(config, 'utf8').replaceAll('generated/', `${dir}/`);
  fs.writeFileSync(path.join(dir, 'codegen.yml'), yml);
  const out = run(bin('graphql-codegen'), ['--config', path.join(dir, 'codegen.yml')], {
    ONTOGRAPH_URL: path.join(dir, 'schema.graphql'),
  });
  assert.ok(out.ok, out.text);
  assert.match(fs.readFileSync(path.join(dir, 'schema.ts'), 'utf8'), /export type MutationRootCreateBranchArgs = /);
});

await check('codegen over the live schema (the docs\' codegen.yml)', async () => {
  fs.rmSync(path.join(here, 'generated'), { recursive: true, force: true });
  const out = run(bin('graphql-codegen'), ['--config', config], { ONTOGRAPH_URL: url });
  assert.ok(out.ok, out.text);
  const schema = fs.readFileSync(path.join(here, 'generated/schema.ts'), 'utf8');
  const operations = fs.readFileSync(path.join(here, 'generated/operations.ts'), 'utf8');
  assert.match(schema, /export type MutationCreateBranchArgs = /);
  assert.doesNotMatch(schema + operations, /QueryRoot|MutationRoot|SubscriptionRoot/);
  assert.match(schema, /DateTime: \{ input: string; output: string; \}/);
  assert.match(schema, /JSON: \{ input: unknown; output: unknown; \}/);
  assert.match(schema, /export type Node = \{/);
  assert.match(operations, /timestamp: string/);
});

await check('tsc --noEmit over the generated types and an app using them', async () => {
  const out = run(bin('tsc'), ['-p', path.join(here, 'tsconfig.json')]);
  assert.ok(out.ok, out.text);
});

done('GraphQL Code Generator');
