import { graphql } from "../gql";

export const ShipmentInfoFragment = graphql(`
  fragment ShipmentInfo on Shipment {
    id
    carrier
    trackingNumber
    trackingUrl
    status
    version
    shippedAt
    deliveredAt
  }
`);

export const OrderSummaryFragment = graphql(`
  fragment OrderSummary on Order {
    id
    status
    version
    createdAt
    total {
      amount
      amountMinor
      currency
    }
    buyer {
      id
      name
    }
    lines {
      id
      released
      price {
        amount
        currency
      }
      listing {
        id
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
    shipments {
      ...ShipmentInfo
    }
  }
`);

export const MyOrdersQuery = graphql(`
  query MyOrders($first: Int!, $filter: OrderFilter) {
    orders(first: $first, filter: $filter) {
      totalCount
      edges {
        node {
          ...OrderSummary
        }
      }
    }
  }
`);

export const OrderQuery = graphql(`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderSummary
    }
  }
`);

export const CancelOrderMutation = graphql(`
  mutation CancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      __typename
      ... on CancelOrderPayload {
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

export const OrderLiveSubscription = graphql(`
  subscription OrderLive($id: ID!) {
    order(id: $id) {
      kind
      cursor
      order {
        ...OrderSummary
      }
    }
  }
`);
