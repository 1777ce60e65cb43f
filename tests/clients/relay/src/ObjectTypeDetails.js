// A small Relay app (compiled by relay-compiler; the test runs its
// artifacts with relay-runtime). An object type, refetchable by its id:
// Relay builds ObjectTypeDetailsRefetchQuery on `Query.node(id:)`.
import { graphql } from 'relay-runtime';

export const ObjectTypeDetails = graphql`
  fragment ObjectTypeDetails_objectType on ObjectType @refetchable(queryName: "ObjectTypeDetailsRefetchQuery") {
    apiName
    displayName
    description
    version
    outgoingLinks {
      id
      linkId
      version
    }
  }
`;
