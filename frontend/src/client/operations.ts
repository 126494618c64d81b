import { graphql } from "../gql";

export const SettlementsLiveSubscription = graphql(`
  subscription SettlementsLive($first: Int) {
    settlements(first: $first) {
      kind
      cursor
      hasMore
      settlements {
        ...SettlementDetail
      }
    }
  }
`);
