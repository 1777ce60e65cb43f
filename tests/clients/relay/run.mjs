// Relay against the real server: node relay/run.mjs http://HOST/graphql
// 1. relay-compiler compiles the app in src/ (@refetchable fragments on
//    ObjectType and Branch, a @connection, a subscription) against the live
//    schema; against the same schema without `Node`/`node(id:)` — what the
//    issue found — it fails.
// 2. relay-runtime (no React) runs the compiled artifacts: the history is
//    normalized with no warning, refetch and pagination go through
//    `node(id:)`, a subscription delivers a commit into the store.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildClientSchema, getIntrospectionQuery, parse, print, printSchema, visit } from 'graphql';
import WebSocket from 'ws';

import { assert, captureConsole, check, done, post, quietly, subscriptionsActive } from '../lib.mjs';
import { createRelayEnvironment } from '../snippets/relay.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const url = process.argv[2];
const wsUrl = url.replace(/^http/, 'ws') + '/ws';
const compiler = path.resolve(here, '../node_modules/.bin/relay-compiler');

const sdl = printSchema(buildClientSchema(await post(url, getIntrospectionQuery())));
fs.writeFileSync(path.join(here, 'schema.graphql'), sdl);

function compile(configPath) {
  return spawnSync(compiler, [configPath], { cwd: path.dirname(configPath), encoding: 'utf8' });
}

await check('reproduced: without Node and Query.node(id:), relay-compiler refuses @refetchable', async () => {
  // The live schema minus what the issue asked for.
  const withoutNode = visit(parse(sdl), {
    InterfaceTypeDefinition: (n) => (n.name.value === 'Node' ? null : undefined),
    ObjectTypeDefinition: (n) => ({
      ...n,
      interfaces: n.interfaces.filter((i) => i.name.value !== 'Node'),
      fields: n.name.value === 'Query' ? n.fields.filter((f) => !['node', 'nodes'].includes(f.name.value)) : n.fields,
    }),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-old-'));
  fs.writeFileSync(path.join(dir, 'schema.graphql'), print(withoutNode));
  fs.mkdirSync(path.join(dir, '__generated__'));
  const config = {
    ...JSON.parse(fs.readFileSync(path.join(here, 'relay.config.json'), 'utf8')),
    src: path.relative(dir, path.join(here, 'src')),
  };
  fs.writeFileSync(path.join(dir, 'relay.config.json'), JSON.stringify(config));
  const out = compile(path.join(dir, 'relay.config.json'));
  assert.notEqual(out.status, 0, 'relay-compiler should fail');
  assert.match(out.stdout + out.stderr, /@refetchable/, out.stdout + out.stderr);
});

await check('relay-compiler compiles the app against the live schema', async () => {
  fs.rmSync(path.join(here, '__generated__'), { recursive: true, force: true });
  fs.mkdirSync(path.join(here, '__generated__'));
  const out = compile(path.join(here, 'relay.config.json'));
  assert.equal(out.status, 0, out.stdout + out.stderr);
  // Relay's JavaScript artifacts are CommonJS modules requiring each other
  // without extension; this package is ESM.
  fs.writeFileSync(path.join(here, '__generated__/package.json'), '{ "type": "commonjs" }\n');
  const made = fs.readdirSync(path.join(here, '__generated__')).sort();
  for (const artifact of [
    'AppChangesSubscription.graphql.js',
    'AppQuery.graphql.js',
    'BranchHistoryPaginationQuery.graphql.js',
    'BranchHistory_branch.graphql.js',
    'ObjectTypeDetailsRefetchQuery.graphql.js',
    'ObjectTypeDetails_objectType.graphql.js',
  ]) {
    assert.ok(made.includes(artifact), `${artifact} in ${made}`);
  }
});

if (process.exitCode) process.exit(1); // nothing to run without the artifacts

const load = async (name) => (await import(`./__generated__/${name}.graphql.js`)).default;
const AppQuery = await load('AppQuery');
const BranchHistory = await load('BranchHistory_branch');
const Pagination = await load('BranchHistoryPaginationQuery');
const Refetch = await load('ObjectTypeDetailsRefetchQuery');
const ObjectTypeDetails = await load('ObjectTypeDetails_objectType');
const Changes = await load('AppChangesSubscription');
const { createOperationDescriptor, fetchQuery, getSelector, requestSubscription } = await import('relay-runtime');

// Main's history reads `v2: MODIFIED [description], v1: ADDED` for Employee.
await post(
  url,
  `mutation { updateObjectType(branch: "main", apiName: "Employee", expectedVersion: 1,
     input: { description: "changed" }) { id } }`,
);
const variables = { branch: 'main' };

/** The BranchHistory fragment's data as the store holds it. */
function history(environment) {
  const root = environment.lookup(createOperationDescriptor(AppQuery, variables).fragment).data;
  return environment.lookup(getSelector(BranchHistory, root.branch)).data;
}
const employee = (h) =>
  h.commits.edges.map(({ node }) => {
    const c = node.changes.find((ch) => ch.entityId === 'Employee');
    return `v${node.version}: ${c.change} [${c.fields.join(', ')}]`;
  });

await check('reproduced: with the entity\'s name as the change\'s id, Relay warns and the history is wrong', async () => {
  const payload = await post(url, AppQuery.params.text, variables);
  for (const { node } of payload.branch.commits.edges) {
    for (const c of node.changes) c.id = c.entityId; // what EntityChange.id was
  }
  const { environment, dispose } = createRelayEnvironment({ url, wsUrl, webSocketImpl: WebSocket });
  const [, messages] = await captureConsole(async () => {
    environment.commitPayload(createOperationDescriptor(AppQuery, variables), payload);
  });
  dispose();
  assert.ok(messages.some((m) => m.includes('two instances of the same id')), messages.join('\n'));
  // One record for both commits' Employee change: the last one written wins.
  assert.deepEqual(employee(history(environment)), ['v2: ADDED []', 'v1: ADDED []']);
});

const { environment, dispose } = createRelayEnvironment({ url, wsUrl, webSocketImpl: WebSocket });

await check('the history normalizes with no warning, each change distinct', async () => {
  await quietly(async () => {
    await fetchQuery(environment, AppQuery, variables).toPromise();
    assert.deepEqual(employee(history(environment)), ['v2: MODIFIED [description]', 'v1: ADDED []']);
  });
});

await check('@refetchable on ObjectType: refetched through node(id:)', async () => {
  await quietly(async () => {
    const root = environment.lookup(createOperationDescriptor(AppQuery, variables).fragment).data;
    const id = root.branch.objectType.id;
    const data = await fetchQuery(environment, Refetch, { id }).toPromise();
    assert.equal(data.node.__id, id, 'the record Relay stores under the global id');
    const details = environment.lookup(getSelector(ObjectTypeDetails, data.node)).data;
    assert.equal(details.apiName, 'Employee');
    assert.equal(details.version, 2);
    assert.ok(details.outgoingLinks.length > 0 && details.outgoingLinks.every((l) => l.id && l.linkId));
  });
});

await check('@refetchable @connection on Branch: the next page through node(id:)', async () => {
  await quietly(async () => {
    const root = environment.lookup(createOperationDescriptor(AppQuery, variables).fragment).data;
    const data = await fetchQuery(environment, Pagination, { id: root.branch.id, count: 1, cursor: '2' }).toPromise();
    assert.equal(data.node.__id, root.branch.id);
    // The page (v1) merges into the connection already in the store: each
    // commit once, by its id.
    const merged = environment.lookup(getSelector(BranchHistory, data.node)).data;
    assert.deepEqual(employee(merged), ['v2: MODIFIED [description]', 'v1: ADDED []']);
  });
});

await check('a subscription (graphql-ws) delivers the next commit into the store', async () => {
  await quietly(async () => {
    const got = new Promise((resolve, reject) => {
      const sub = requestSubscription(environment, {
        subscription: Changes,
        variables,
        onNext: (data) => {
          sub.dispose();
          resolve(data);
        },
        onError: reject,
      });
    });
    await subscriptionsActive(url, 1);
    await post(url, 'mutation { createObjectType(branch: "main", input: { apiName: "Live" }) { id } }');
    const delivered = await got;
    const record = environment.getStore().getSource().get(delivered.changes.id);
    assert.equal(record.version, delivered.changes.version);
    assert.deepEqual(delivered.changes.changes.map((c) => [c.entityId, c.change]), [['Live', 'ADDED']]);
  });
});

dispose();
done('Relay');
