// Relay: the environment. Relay keys records by `id` and refetches
// through `Query.node(id:)`, which every cacheable type supports.
import { createClient } from 'graphql-ws';
import { Environment, Network, Observable, RecordSource, Store } from 'relay-runtime';

export function createRelayEnvironment({ url, wsUrl, webSocketImpl }) {
  const fetchFn = async (request, variables) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: request.text, variables }),
    });
    // Errors come back in the body (HTTP 400 when the request was refused).
    return response.json();
  };
  // Subscriptions over graphql-transport-ws at /graphql/ws.
  const ws = createClient({ url: wsUrl, webSocketImpl });
  const subscribe = (request, variables) =>
    Observable.create((sink) => ws.subscribe({ query: request.text, variables }, sink));
  const environment = new Environment({
    network: Network.create(fetchFn, subscribe),
    store: new Store(new RecordSource()),
  });
  return { environment, dispose: () => ws.dispose() };
}
