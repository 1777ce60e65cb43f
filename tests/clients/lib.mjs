// Shared by the client tests: a tiny runner, console capture (a client's
// cache warnings fail the test), and raw GraphQL requests for set-up.

import assert from 'node:assert/strict';

export { assert };

let failed = 0;

/** Run one named check; print ok/FAILED; a failure sets the exit code. */
export async function check(name, fn) {
  try {
    await fn();
    console.log(`ok      ${name}`);
  } catch (e) {
    failed += 1;
    process.exitCode = 1;
    console.log(`FAILED  ${name}\n${e?.stack ?? e}`);
  }
}

/** Print the summary; exit code 1 when a check failed. */
export function done(suite) {
  console.log(failed === 0 ? `${suite}: all checks passed` : `${suite}: ${failed} check(s) FAILED`);
}

/**
 * Collect everything written through console.warn and console.error
 * (Apollo's and Relay's cache warnings, urql's graphcache warnings) while
 * `fn` runs, without printing it. Returns [result, messages].
 */
export async function captureConsole(fn) {
  const messages = [];
  const saved = { warn: console.warn, error: console.error };
  const keep = (level) => (...args) => messages.push(`${level}: ${args.map(String).join(' ')}`);
  console.warn = keep('warn');
  console.error = keep('error');
  try {
    return [await fn(), messages];
  } finally {
    Object.assign(console, saved);
  }
}

/** Run `fn`; fail when it printed any warning or error. */
export async function quietly(fn) {
  const [result, messages] = await captureConsole(fn);
  assert.deepEqual(messages, [], 'the client printed warnings or errors');
  return result;
}

/** A `fetch` that counts the requests it sends (to tell cache hits apart). */
export function countingFetch() {
  const counted = (...args) => {
    counted.count += 1;
    return fetch(...args);
  };
  counted.count = 0;
  return counted;
}

/** POST one operation; the `data` of a response that must have no errors. */
export async function post(url, query, variables = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query}\n${JSON.stringify(body.errors, null, 2)}`);
  return body.data;
}

/**
 * The demo ontology with a branch that changed the same entities as main:
 * `feature` forked from main, then Employee's description and the link type
 * Payment.settles.Invoice changed on `feature`, and Employee's description
 * on main (so main's history reads `v2: MODIFIED [description], v1: ADDED`).
 */
export async function diverge(url) {
  await post(url, 'mutation { createBranch(name: "feature") { id } }');
  const update = `mutation($b: String!, $d: String) {
    updateObjectType(branch: $b, apiName: "Employee", expectedVersion: 1, input: { description: $d }) { id } }`;
  await post(url, update, { b: 'feature', d: "feature's Employee" });
  await post(url, update, { b: 'main', d: "main's Employee" });
  await post(
    url,
    `mutation { updateLinkType(branch: "feature", id: "Payment.settles.Invoice", expectedVersion: 1,
       input: { description: "feature's settles" }) { id } }`,
  );
}

/**
 * Wait until the server has `n` subscriptions open (graphql-transport-ws
 * has no acknowledgement of a started subscription, so a commit made
 * before could be missed): its /metrics gauge says.
 */
export async function subscriptionsActive(url, n) {
  const metrics = new URL('/metrics', url);
  for (let i = 0; i < 3000; i++) {
    const text = await (await fetch(metrics)).text();
    const line = text.split('\n').find((l) => l.startsWith('ontograph_subscriptions_active '));
    if (line && Number(line.split(' ')[1]) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`fewer than ${n} subscriptions open after 30 s`);
}
