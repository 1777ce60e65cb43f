// The Apollo Client scenario, run with Apollo 3 (apollo3.mjs) and Apollo 4
// (apollo4/test.mjs) against the real server with the demo ontology, each
// with a default InMemoryCache (the docs' snippet, no type policies).
//
// Each of the silent-wrong-data cases is first reproduced the way
// the old schema made it happen — an alias standing in for the old `id`
// (`id: linkId`, `id: entityId`), an object read without `id`, the type
// policies a client had to write (`keyFields: ['apiName']`, `['name']`) —
// so the check is shown to catch it; then the same reads with the global
// ids give the right data, with no console output at all.

import { assert, captureConsole, check, countingFetch, diverge, done, quietly } from './lib.mjs';

export async function apolloScenario({ suite, url, apollo, snippet }) {
  const { ApolloClient, HttpLink, InMemoryCache, gql } = apollo;
  await diverge(url);

  const fresh = () => {
    const fetch = countingFetch();
    return { client: snippet.createApolloClient({ uri: url, fetch }), fetch };
  };
  // A client with a cache the test configures (for the reproductions).
  const configured = (cacheOptions) => {
    const fetch = countingFetch();
    const cache = new InMemoryCache(cacheOptions);
    return { client: new ApolloClient({ link: new HttpLink({ uri: url, fetch }), cache }), fetch };
  };
  const read = async (client, query, variables) => (await client.query({ query, variables })).data;

  // Issue case 2 (LinkType.id the same on every branch) and case 3
  // (ObjectType/Interface/Branch without id; keyed by apiName they mix
  // branches).
  const ENTITIES = gql`
    query Entities($b: String!) {
      branch(name: $b) {
        id
        name
        version
        objectType(apiName: "Employee") { id apiName version description }
        interface(apiName: "Locatable") { id apiName version }
        linkType(id: "Payment.settles.Invoice") { id linkId version description }
      }
    }
  `;
  await check('reproduced: a link type keyed by "{source}.{apiName}.{target}" reads back with the branch\'s data', async () => {
    const OLD = gql`
      query OldLinkType($b: String!) {
        branch(name: $b) { id linkType(id: "Payment.settles.Invoice") { id: linkId version description } }
      }
    `;
    const { client } = configured();
    const [, messages] = await captureConsole(async () => {
      const main = await read(client, OLD, { b: 'main' });
      await read(client, OLD, { b: 'feature' });
      const again = await read(client, OLD, { b: 'main' });
      assert.equal(main.branch.linkType.description, null);
      assert.equal(again.branch.linkType.description, "feature's settles", 'the old ids mix branches');
      assert.equal(again.branch.linkType.version, 2);
    });
    assert.deepEqual(messages, []);
  });
  await check('reproduced: object types keyed by apiName (keyFields) read back with the branch\'s data', async () => {
    const OLD = gql`
      query OldObjectType($b: String!) {
        branch(name: $b) { id objectType(apiName: "Employee") { apiName version description } }
      }
    `;
    const { client } = configured({ typePolicies: { ObjectType: { keyFields: ['apiName'] } } });
    await read(client, OLD, { b: 'main' });
    await read(client, OLD, { b: 'feature' });
    const again = await read(client, OLD, { b: 'main' });
    assert.equal(again.branch.objectType.description, "feature's Employee", 'apiName keys mix branches');
  });
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
      assert.equal(main.branch.linkType.description, null);
      assert.equal(feature.branch.linkType.description, "feature's settles");
      for (const key of ['objectType', 'interface', 'linkType']) {
        assert.notEqual(main.branch[key].id, feature.branch[key].id, `${key}: one id per branch`);
      }
      assert.equal(main.branch.linkType.linkId, feature.branch.linkType.linkId);
    });
  });

  // Issue case 3: without ids, a mutation's result did not update the cache.
  const EMPLOYEE = gql`
    query Employee {
      branch(name: "main") { id objectType(apiName: "Employee") { id apiName version description } }
    }
  `;
  await check('reproduced: without ids, a cache-first read after updateObjectType shows the old version', async () => {
    const OLD = gql`
      query OldEmployee { branch(name: "main") { objectType(apiName: "Employee") { apiName version description } } }
    `;
    const OLD_UPDATE = gql`
      mutation OldUpdate($v: Int!) {
        updateObjectType(branch: "main", apiName: "Employee", expectedVersion: $v, input: { description: "old way" }) {
          apiName version description
        }
      }
    `;
    const { client } = configured();
    const before = await read(client, OLD);
    await client.mutate({ mutation: OLD_UPDATE, variables: { v: before.branch.objectType.version } });
    const after = await read(client, OLD);
    assert.equal(after.branch.objectType.version, before.branch.objectType.version, 'stale: the old version');
  });
  await check('update an entity, read it cache-first: the new version (the mutation result updates the cache)', async () => {
    await quietly(async () => {
      const { client, fetch } = fresh();
      const before = (await read(client, EMPLOYEE)).branch.objectType;
      const result = await snippet.updateDescription(client, {
        branch: 'main', apiName: 'Employee', expectedVersion: before.version, description: 'updated from the client',
      });
      assert.equal(result.updated.id, before.id, 'the head keeps its id across the update');
      const requests = fetch.count;
      const after = (await read(client, EMPLOYEE)).branch.objectType;
      assert.equal(fetch.count, requests, 'served from the cache');
      assert.deepEqual(after, { ...before, version: before.version + 1, description: 'updated from the client' });
    });
  });
  await check('VERSION_CONFLICT: extensions.expected and extensions.actual', async () => {
    await quietly(async () => {
      const { client } = fresh();
      const current = (await read(client, EMPLOYEE)).branch.objectType.version;
      const result = await snippet.updateDescription(client, {
        branch: 'main', apiName: 'Employee', expectedVersion: current - 1, description: 'stale',
      });
      assert.deepEqual(result, { conflict: { expected: current - 1, actual: current } });
    });
  });

  // Issue case 3: two queries selecting different fields of `branch`
  // evicted each other ("Cache data may be lost…").
  const NAME_VERSION = gql`query NameVersion { branch(name: "main") { id name version } }`;
  const NAME_PROTECTED = gql`query NameProtected { branch(name: "main") { id name protected createdAt } }`;
  await check('reproduced: without ids, two queries selecting different fields of a branch evict each other', async () => {
    const A = gql`query OldA { branch(name: "main") { name version } }`;
    const B = gql`query OldB { branch(name: "main") { name protected } }`;
    const { client, fetch } = configured();
    const [, messages] = await captureConsole(async () => {
      await read(client, A);
      await read(client, B);
      const requests = fetch.count;
      await read(client, A);
      assert.equal(fetch.count, requests + 1, 'A had to go to the network again');
    });
    assert.ok(messages.some((m) => m.includes('Cache data may be lost')), messages.join('\n'));
  });
  await check('two queries selecting different fields of a branch share its cache entry, no warning', async () => {
    await quietly(async () => {
      const { client, fetch } = fresh();
      const a = await read(client, NAME_VERSION);
      const b = await read(client, NAME_PROTECTED);
      const requests = fetch.count;
      assert.deepEqual(await read(client, NAME_VERSION), a);
      assert.deepEqual(await read(client, NAME_PROTECTED), b);
      assert.equal(fetch.count, requests, 'both served from the cache');
      assert.equal(a.branch.id, b.branch.id);
    });
  });

  // Issue case 3: keying Branch by name let branch(at: 1) overwrite the head.
  const HEAD = gql`query Head { branch(name: "main") { id name version historical } }`;
  const PAST = gql`query Past { branch(name: "main", at: 1) { id name version historical } }`;
  await check('reproduced: Branch keyed by name (keyFields), branch(at: 1) overwrites the head', async () => {
    const H = gql`query OldHead { branch(name: "main") { name version historical } }`;
    const P = gql`query OldPast { branch(name: "main", at: 1) { name version historical } }`;
    const { client } = configured({ typePolicies: { Branch: { keyFields: ['name'] } } });
    const head = await read(client, H);
    await read(client, P);
    const again = await read(client, H);
    assert.notEqual(head.branch.version, 1);
    assert.equal(again.branch.version, 1, 'the head reads back as version 1');
  });
  await check('a branch as of a version and its head are two cache entries', async () => {
    await quietly(async () => {
      const { client, fetch } = fresh();
      const head = await read(client, HEAD);
      const past = await read(client, PAST);
      const requests = fetch.count;
      assert.deepEqual(await read(client, HEAD), head);
      assert.equal(fetch.count, requests);
      assert.equal(head.branch.historical, false);
      assert.deepEqual({ ...past.branch, id: undefined }, { ...head.branch, id: undefined, version: 1, historical: true });
      assert.notEqual(past.branch.id, head.branch.id);
    });
  });

  // Issue case 1: EntityChange.id was the entity's name, so every commit
  // that touched Employee shared one record.
  const HISTORY = gql`
    query History {
      branch(name: "main") {
        id
        commits(first: 10) { edges { cursor node { id version changes { id entityKind entityId change fields } } } }
      }
    }
  `;
  const employeeChanges = (data) =>
    data.branch.commits.edges.map(({ node }) => {
      const c = node.changes.find((ch) => ch.entityId === 'Employee');
      return c && `v${node.version}: ${c.change} [${c.fields.join(', ')}]`;
    }).filter(Boolean);
  await check('reproduced: with the entity\'s name as the change\'s id, the history reads v1 as MODIFIED', async () => {
    const OLD = gql`
      query OldHistory {
        branch(name: "main") {
          id commits(first: 10) { edges { node { id version changes { id: entityId entityKind change fields } } } }
        }
      }
    `;
    const { client } = configured();
    const data = await read(client, OLD);
    const v1 = data.branch.commits.edges.at(-1).node.changes.find((c) => c.id === 'Employee');
    assert.equal(v1.change, 'MODIFIED', 'every commit shares one Employee record');
  });
  await check('commit history: each change distinct', async () => {
    await quietly(async () => {
      const { client } = fresh();
      const data = await read(client, HISTORY);
      const versions = data.branch.commits.edges.map((e) => e.node.version);
      const history = employeeChanges(data);
      assert.equal(history.at(-1), 'v1: ADDED []');
      assert.ok(history.length >= 3, history.join('\n'));
      for (const line of history.slice(0, -1)) assert.match(line, /^v\d+: MODIFIED \[description\]$/);
      const ids = data.branch.commits.edges.flatMap(({ node }) => node.changes.map((c) => c.id));
      assert.equal(new Set(ids).size, ids.length, 'change ids are distinct');
      assert.deepEqual(versions, [...versions].sort((a, b) => b - a));
      // Read again from the cache: the same history.
      assert.deepEqual(employeeChanges(await read(client, HISTORY)), history);
    });
  });

  done(suite);
}
