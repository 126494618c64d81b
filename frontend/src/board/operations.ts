import { graphql } from "../gql";

export const BoardListingFragment = graphql(`
  fragment BoardListing on Listing {
    id
    status
    version
    updatedAt
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
        functionalPass
        batteryHealthPct
      }
    }
  }
`);

export const BoardQuery = graphql(`
  query Board($filter: ListingFilter, $sort: ListingSort!, $first: Int!) {
    listings(filter: $filter, sort: $sort, first: $first) {
      totalCount
      edges {
        node {
          ...BoardListing
        }
      }
    }
  }
`);

export const ListingBoardSubscription = graphql(`
  subscription ListingBoard($filter: ListingFilter, $first: Int) {
    listingBoard(filter: $filter, first: $first) {
      kind
      cursor
      totalCount
      hasMore
      removedIds
      listings {
        ...BoardListing
      }
    }
  }
`);

/** Why a listing left the board (the board's REMOVED says which, not why). */
export const ListingStatusQuery = graphql(`
  query ListingStatus($id: ID!) {
    listing(id: $id) {
      id
      status
    }
  }
`);

export const ListingQuery = graphql(`
  query Listing($id: ID!) {
    listing(id: $id) {
      ...BoardListing
      createdAt
      device {
        id
        currentGrade {
          id
          cosmetic
          functionalPass
          failedChecks
          batteryHealthPct
          dataWiped
          notes
          gradedAt
        }
      }
      offers {
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
      }
    }
  }
`);

export const BuyListingMutation = graphql(`
  mutation BuyListing($input: BuyListingsInput!) {
    buyListings(input: $input) {
      __typename
      ... on BuyListingsPayload {
        order {
          id
          status
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

export const MakeOfferMutation = graphql(`
  mutation MakeOffer($input: MakeOfferInput!) {
    makeOffer(input: $input) {
      __typename
      ... on OfferPayload {
        offer {
          id
          status
          amount {
            amount
            currency
          }
        }
      }
      ... on Error {
        code
        message
      }
      ... on InvalidInputError {
        field
      }
      ... on NotAvailableError {
        currentStatus
      }
    }
  }
`);
