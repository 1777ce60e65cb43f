// graphql-ws against the real server: node subscriptions.mjs http://HOST/graphql
// The docs' snippet (snippets/subscriptions.mjs) receives a commit with the
// same ids as the history; a missing branch is NOT_FOUND, not silence.
import WebSocket from 'ws';

import { assert, check, done, post, quietly, subscriptionsActive } from './lib.mjs';
import { commits } from './snippets/subscriptions.mjs';

const url = process.argv[2];
const wsUrl = url.replace(/^http/, 'ws') + '/ws';

await check('a subscription to main receives the next commit, with its ids', async () => {
  await quietly(async () => {
    const stream = commits({ url: wsUrl, branch: 'main', webSocketImpl: WebSocket });
    const first = stream.next(); // starts the subscription
    await subscriptionsActive(url, 1);
    await post(url, 'mutation { createObjectType(branch: "main", input: { apiName: "Subscribed" }, message: "live") { id } }');
    const { value: commit } = await first;
    await stream.return(); // unsubscribes and closes the socket
    assert.equal(commit.branch, 'main');
    assert.equal(commit.message, 'live');
    assert.deepEqual(commit.changes.map((c) => [c.entityKind, c.entityId, c.change]), [['OBJECT_TYPE', 'Subscribed', 'ADDED']]);
    const history = await post(url, '{ branch { commits(first: 1) { edges { node { id version changes { id } } } } } }');
    const latest = history.branch.commits.edges[0].node;
    assert.deepEqual({ id: commit.id, version: commit.version, changes: commit.changes.map((c) => ({ id: c.id })) }, latest);
  });
});

await check('a subscription to a missing branch fails with NOT_FOUND', async () => {
  await quietly(async () => {
    const stream = commits({ url: wsUrl, branch: 'nope', webSocketImpl: WebSocket });
    await assert.rejects(stream.next(), (errors) => {
      assert.ok(Array.isArray(errors), String(errors));
      assert.equal(errors[0].extensions.code, 'NOT_FOUND');
      assert.equal(errors[0].message, 'branch nope not found');
      return true;
    });
  });
});

done('graphql-ws');
