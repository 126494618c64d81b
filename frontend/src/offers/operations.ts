import { graphql } from "../gql";

export const OfferRowFragment = graphql(`
  fragment OfferRow on Offer {
    id
    status
    fromParty
    version
    createdAt
    expiresAt
    amount {
      amount
      amountMinor
      currency
    }
    buyer {
      id
      name
    }
    parent {
      id
      amount {
        amount
        currency
      }
    }
    listing {
      id
      status
      price {
        amount
        amountMinor
        currency
      }
      device {
        id
        make
        model
        storageGb
        colour
        currentGrade {
          id
          cosmetic
        }
      }
    }
  }
`);

export const OffersQuery = graphql(`
  query Offers($filter: OfferFilter, $first: Int!) {
    offers(filter: $filter, first: $first) {
      totalCount
      edges {
        node {
          ...OfferRow
        }
      }
    }
  }
`);

export const AcceptOfferMutation = graphql(`
  mutation AcceptOffer($input: AcceptOfferInput!) {
    acceptOffer(input: $input) {
      __typename
      ... on AcceptOfferPayload {
        orderId
        offer {
          ...OfferRow
        }
      }
      ... on Error {
        code
        message
      }
      ... on NotAvailableError {
        currentStatus
      }
    }
  }
`);

export const CounterOfferMutation = graphql(`
  mutation CounterOffer($input: CounterOfferInput!) {
    counterOffer(input: $input) {
      __typename
      ... on CounterOfferPayload {
        offer {
          ...OfferRow
        }
        counteredOffer {
          ...OfferRow
        }
      }
      ... on Error {
        code
        message
      }
      ... on InvalidInputError {
        field
      }
    }
  }
`);

export const RejectOfferMutation = graphql(`
  mutation RejectOffer($input: RejectOfferInput!) {
    rejectOffer(input: $input) {
      __typename
      ... on OfferPayload {
        offer {
          ...OfferRow
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const WithdrawOfferMutation = graphql(`
  mutation WithdrawOffer($input: WithdrawOfferInput!) {
    withdrawOffer(input: $input) {
      __typename
      ... on OfferPayload {
        offer {
          ...OfferRow
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const MyOffersLiveSubscription = graphql(`
  subscription MyOffersLive($first: Int) {
    offers(mine: true, first: $first) {
      kind
      cursor
      hasMore
      offers {
        ...OfferRow
      }
    }
  }
`);
