import { graphql } from "../gql";

export const PricingListingsQuery = graphql(`
  query PricingListings($filter: ListingFilter, $first: Int!) {
    listings(filter: $filter, first: $first, sort: NEWEST) {
      totalCount
      edges {
        node {
          ...BoardListing
          offers {
            id
            status
            fromParty
          }
        }
      }
    }
  }
`);

export const ReadyToListQuery = graphql(`
  query ReadyToList {
    devices(first: 100, filter: { status: [GRADED] }, sort: NEWEST) {
      totalCount
      edges {
        node {
          id
          imei
          serial
          make
          model
          storageGb
          colour
          lockStatus
          blacklistStatus
          version
          client {
            id
            name
          }
          currentGrade {
            id
            cosmetic
            functionalPass
            batteryHealthPct
            dataWiped
          }
        }
      }
    }
  }
`);

export const CreateListingMutation = graphql(`
  mutation CreateListing($input: CreateListingInput!) {
    createListing(input: $input) {
      __typename
      ... on ListingPayload {
        listing {
          ...BoardListing
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

export const PublishListingMutation = graphql(`
  mutation PublishListing($input: ListingActionInput!) {
    publishListing(input: $input) {
      __typename
      ... on ListingPayload {
        listing {
          ...BoardListing
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const PauseListingMutation = graphql(`
  mutation PauseListing($input: ListingActionInput!) {
    pauseListing(input: $input) {
      __typename
      ... on ListingPayload {
        listing {
          ...BoardListing
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const RepriceListingMutation = graphql(`
  mutation RepriceListing($input: RepriceListingInput!) {
    repriceListing(input: $input) {
      __typename
      ... on ListingPayload {
        listing {
          ...BoardListing
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

export const WithdrawListingMutation = graphql(`
  mutation WithdrawListing($input: WithdrawListingInput!) {
    withdrawListing(input: $input) {
      __typename
      ... on ListingPayload {
        listing {
          ...BoardListing
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const DeskOrdersQuery = graphql(`
  query DeskOrders($filter: OrderFilter) {
    orders(first: 100, filter: $filter) {
      totalCount
      edges {
        node {
          ...OrderSummary
        }
      }
    }
  }
`);

export const ConfirmOrderMutation = graphql(`
  mutation ConfirmOrder($input: ConfirmOrderInput!) {
    confirmOrder(input: $input) {
      __typename
      ... on ConfirmOrderPayload {
        order {
          ...OrderSummary
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const CompleteOrderMutation = graphql(`
  mutation CompleteOrder($input: CompleteOrderInput!) {
    completeOrder(input: $input) {
      __typename
      ... on CompleteOrderPayload {
        order {
          ...OrderSummary
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);
