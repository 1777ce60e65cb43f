// urql with its normalized cache (@urql/exchange-graphcache).
import { Client, fetchExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';

// Every cacheable object has a global `id`, graphcache's default key. The
// types without one are values embedded in their parent (connections,
// pages, stats, traversals, diffs, merge results, server info): a null key
// says so, and graphcache does not warn about them.
export const EMBEDDED_TYPES = [
  'Annotation', 'AuditEventConnection', 'AuditEventEdge', 'BranchDiff', 'BranchStats', 'CacheInfo', 'CommitConnection',
  'CommitEdge', 'CreatedToken', 'Edge', 'InterfaceConnection', 'InterfaceEdge', 'Limits', 'LinkTypeConnection',
  'LinkTypeEdge', 'MergeResult', 'ObjectTypeConnection', 'ObjectTypeEdge', 'PageInfo', 'Path', 'Property',
  'ResponseCacheStats', 'ServerInfo', 'Traversal', 'TraversalNode', 'Viewer',
];

// `schema`: the server's introspection result (`{ __schema }`), so
// graphcache matches fragments on interfaces (`... on ObjectType` inside
// `node`) exactly.
export function createUrqlClient({ url, schema, fetch }) {
  return new Client({
    url,
    fetch,
    exchanges: [
      cacheExchange({ schema, keys: Object.fromEntries(EMBEDDED_TYPES.map((type) => [type, () => null])) }),
      fetchExchange,
    ],
  });
}

const UPDATE_DESCRIPTION = gql`
  mutation UpdateDescription($branch: String!, $apiName: ID!, $expectedVersion: Int!, $description: String) {
    updateObjectType(branch: $branch, apiName: $apiName, expectedVersion: $expectedVersion,
                     input: { description: $description }) {
      id
      version
      description
    }
  }
`;

// urql resolves with `error` (a CombinedError) instead of throwing.
export async function updateDescription(client, variables) {
  const { data, error } = await client.mutation(UPDATE_DESCRIPTION, variables).toPromise();
  const conflict = error?.graphQLErrors.find((e) => e.extensions?.code === 'VERSION_CONFLICT');
  if (conflict) {
    const { expected, actual } = conflict.extensions;
    return { conflict: { expected, actual } }; // re-read, then retry or show a merge UI
  }
  if (error) throw error;
  return { updated: data.updateObjectType };
}
