// graphql-ws: every commit on a branch as it becomes durable.
import { createClient } from 'graphql-ws';

const CHANGES = `
  subscription Changes($branch: String) {
    changes(branch: $branch) {
      id
      branch
      version
      message
      changes { id entityKind entityId change fields }
    }
  }
`;

// Yields each commit; a missing branch ends the iteration with an error
// (the GraphQL errors, `extensions.code` NOT_FOUND).
export async function* commits({ url, branch, webSocketImpl }) {
  const client = createClient({ url, webSocketImpl }); // in a browser, omit webSocketImpl
  try {
    for await (const { data, errors } of client.iterate({ query: CHANGES, variables: { branch } })) {
      if (errors) throw errors;
      yield data.changes;
    }
  } finally {
    await client.dispose();
  }
}
