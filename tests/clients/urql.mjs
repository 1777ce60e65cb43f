// urql with @urql/exchange-graphcache against the real server:
// node urql.mjs http://HOST/graphql
import { Client, fetchExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { getIntrospectionQuery } from 'graphql';

import { assert, captureConsole, check, countingFetch, diverge, done, post, quietly } from './lib.mjs';
import { EMBEDDED_TYPES, createUrqlClient, updateDescription } from './snippets/urql.mjs';

const url = process.argv[2];
const schema = await post(url, getIntrospectionQuery());
await diverge(url);

const fresh = () => {
  const fetch = countingFetch();
  return { client: createUrqlClient({ url, schema, fetch }), fetch };
};
const read = async (client, query, variables) => {
  const { data, error } = await client.query(query, variables, { requestPolicy: 'cache-first' }).toPromise();
  if (error) throw error;
  return data;
};

await check('the snippet\'s embedded types are exactly the object types without an id', async () => {
  const idless = schema.__schema.types
    .filter((t) => t.kind === 'OBJECT' && !t.name.startsWith('__'))
    .filter((t) => !['Query', 'Mutation', 'Subscription'].includes(t.name))
    .filter((t) => !t.fields.some((f) => f.name === 'id'))
    .map((t) => t.name)
    .sort();
  assert.deepEqual([...EMBEDDED_TYPES].sort(), idless);
});

await check('without the null keys graphcache warns about embedded types (what quietly() would catch)', async () => {
  const client = new Client({ url, exchanges: [cacheExchange({ schema }), fetchExchange] });
  const [, messages] = await captureConsole(() => read(client, gql`{ branch { id stats { objectTypes } } }`));
  assert.ok(messages.some((m) => m.includes('BranchStats')), messages.join('\n'));
});

const ENTITIES = gql`
  query Entities($b: String!) {
    branch(name: $b) {
      id
      name
      version
      stats { objectTypes }
      objectType(apiName: "Employee") { id apiName version description }
      linkType(id: "Payment.settles.Invoice") { id linkId version description }
      node(apiName: "Locatable") { id apiName ... on Interface { extends } }
    }
  }
`;
await check('main, then a branch that changed the same entities, then main from the cache: main\'s data', async () => {
  await quietly(async () => {
    const { client, fetch } = fresh();
    const main = await read(client, ENTITIES, { b: 'main' });
    const feature = await read(client, ENTITIES, { b: 'feature' });
    const requests = fetch.count;
    const again = await read(client, ENTITIES, { b: 'main' });
    assert.equal(fetch.count, requests, 'served from the cache');
    assert.deepEqual(again, main);
    assert.equal(main.branch.objectType.description, "main's Employee");
    assert.equal(feature.branch.objectType.description, "feature's Employee");
    assert.equal(feature.branch.linkType.description, "feature's settles");
    assert.equal(main.branch.linkType.description, null);
  });
});

const EMPLOYEE = gql`
  query Employee { branch(name: "main") { id objectType(apiName: "Employee") { id apiName version description } } }
`;
await check('update an entity, read it cache-first: the new version', async () => {
  await quietly(async () => {
    const { client, fetch } = fresh();
    const before = (await read(client, EMPLOYEE)).branch.objectType;
    const result = await updateDescription(client, {
      branch: 'main', apiName: 'Employee', expectedVersion: before.version, description: 'updated by urql',
    });
    assert.equal(result.updated.id, before.id);
    const requests = fetch.count;
    const after = (await read(client, EMPLOYEE)).branch.objectType;
    assert.equal(fetch.count, requests, 'served from the cache');
    assert.deepEqual(after, { ...before, version: before.version + 1, description: 'updated by urql' });
  });
});
await check('VERSION_CONFLICT: extensions.expected and extensions.actual', async () => {
  await quietly(async () => {
    const { client } = fresh();
    const current = (await read(client, EMPLOYEE)).branch.objectType.version;
    const result = await updateDescription(client, {
      branch: 'main', apiName: 'Employee', expectedVersion: current - 1, description: 'stale',
    });
    assert.deepEqual(result, { conflict: { expected: current - 1, actual: current } });
  });
});

const HISTORY = gql`
  query History {
    branch(name: "main") {
      id
      commits(first: 10) { edges { cursor node { id version changes { id entityKind entityId change fields } } } }
    }
  }
`;
await check('commit history: each change distinct', async () => {
  await quietly(async () => {
    const { client } = fresh();
    const data = await read(client, HISTORY);
    const employee = data.branch.commits.edges.map(({ node }) => {
      const c = node.changes.find((ch) => ch.entityId === 'Employee');
      return c && `v${node.version}: ${c.change} [${c.fields.join(', ')}]`;
    }).filter(Boolean);
    assert.equal(employee.at(-1), 'v1: ADDED []');
    for (const line of employee.slice(0, -1)) assert.match(line, /^v\d+: MODIFIED \[description\]$/);
    const ids = data.branch.commits.edges.flatMap(({ node }) => node.changes.map((c) => c.id));
    assert.equal(new Set(ids).size, ids.length);
  });
});

await check('node(id:) with a fragment on an interface\'s implementation', async () => {
  await quietly(async () => {
    const { client } = fresh();
    const id = (await read(client, EMPLOYEE)).branch.objectType.id;
    const NODE = gql`query Node($id: ID!) { node(id: $id) { id ... on ObjectType { apiName version } } }`;
    const got = await read(client, NODE, { id });
    assert.equal(got.node.id, id);
    assert.equal(got.node.apiName, 'Employee');
  });
});

done('urql + graphcache');
