// Apollo Client 3 (without React; with React import from '@apollo/client').
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';

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

// Optimistic locking: send the `version` you read. A stale one fails with
// VERSION_CONFLICT and writes nothing; `extensions` says what was expected
// and what the entity's version actually is.
export async function updateDescription(client, variables) {
  try {
    const { data } = await client.mutate({ mutation: UPDATE_DESCRIPTION, variables });
    return { updated: data.updateObjectType };
  } catch (error) {
    const conflict = error.graphQLErrors?.find((e) => e.extensions?.code === 'VERSION_CONFLICT');
    if (!conflict) throw error;
    const { expected, actual } = conflict.extensions;
    return { conflict: { expected, actual } }; // re-read, then retry or show a merge UI
  }
}
