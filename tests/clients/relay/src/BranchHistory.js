// A branch's history as a Relay connection, paginated with @connection on
// `commits` and refetchable by the branch's id.
import { graphql } from 'relay-runtime';

export const BranchHistory = graphql`
  fragment BranchHistory_branch on Branch
  @refetchable(queryName: "BranchHistoryPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" }) {
    name
    version
    commits(first: $count, after: $cursor) @connection(key: "BranchHistory_commits") {
      edges {
        node {
          id
          version
          message
          changes {
            id
            entityKind
            entityId
            change
            fields
          }
        }
      }
    }
  }
`;
