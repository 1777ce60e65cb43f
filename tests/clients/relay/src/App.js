// The app's query: a branch, its history and one object type.
import { graphql } from 'relay-runtime';

export const AppQuery = graphql`
  query AppQuery($branch: String!) {
    branch(name: $branch) {
      id
      ...BranchHistory_branch
      objectType(apiName: "Employee") {
        id
        ...ObjectTypeDetails_objectType
      }
    }
  }
`;

// Live: each commit on `branch` as it lands (over graphql-ws, see the
// environment's `subscribe`).
export const AppChangesSubscription = graphql`
  subscription AppChangesSubscription($branch: String!) {
    changes(branch: $branch) {
      id
      version
      changes {
        id
        entityId
        change
      }
    }
  }
`;
