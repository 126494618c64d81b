import { graphql } from "../gql";

/** The change stream; every live view subscribes with its own filter. */
export const LiveEventsSubscription = graphql(`
  subscription LiveEvents($after: String, $types: [String!], $entityType: String, $entityId: ID) {
    events(after: $after, types: $types, entityType: $entityType, entityId: $entityId) {
      cursor
      type
      entityType
      entityId
      entityVersion
      occurredAt
      actor
      changes
    }
  }
`);
