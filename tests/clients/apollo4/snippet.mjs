// Apollo Client 4.
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';

// Every cacheable object has a global `id`: the default InMemoryCache
// normalizes them as `${__typename}:${id}`. No typePolicies, no keyFields.
export function createApolloClient({ uri, fetch }) {
  return new ApolloClient({
    link: new HttpLink({ uri, fetch, headers: { 'X-Ontograph-Author': 'frontend' } }),
    cache: new InMemoryCache(),
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

// Optimistic locking: a stale `expectedVersion` fails with VERSION_CONFLICT
// (`extensions.expected`, `extensions.actual`) and writes nothing.
export async function updateDescription(client, variables) {
  try {
    const { data } = await client.mutate({ mutation: UPDATE_DESCRIPTION, variables });
    return { updated: data.updateObjectType };
  } catch (error) {
    const conflict = CombinedGraphQLErrors.is(error)
      ? error.errors.find((e) => e.extensions?.code === 'VERSION_CONFLICT')
      : undefined;
    if (!conflict) throw error;
    const { expected, actual } = conflict.extensions;
    return { conflict: { expected, actual } }; // re-read, then retry or show a merge UI
  }
}
