import { graphql } from "../gql";

export const SettlementDetailFragment = graphql(`
  fragment SettlementDetail on Settlement {
    id
    periodStart
    periodEnd
    currency
    status
    version
    createdAt
    lineCount
    client {
      id
      name
    }
    totals {
      gross {
        amount
        currency
      }
      commission {
        amount
        currency
      }
      fees {
        amount
        currency
      }
      net {
        amount
        currency
      }
    }
    lines {
      id
      gross {
        amount
        currency
      }
      commission {
        amount
        currency
      }
      fees {
        amount
        currency
      }
      net {
        amount
        currency
      }
      device {
        id
        imei
        serial
        make
        model
        storageGb
      }
    }
  }
`);

export const SettlementsQuery = graphql(`
  query Settlements($filter: SettlementFilter) {
    settlements(first: 100, filter: $filter) {
      totalCount
      edges {
        node {
          ...SettlementDetail
        }
      }
    }
  }
`);

/** Clients with delivered devices: whom there is something to settle for. */
export const SettleableClientsQuery = graphql(`
  query SettleableClients {
    devices(first: 100, filter: { status: [DELIVERED] }, sort: NEWEST) {
      edges {
        node {
          id
          client {
            id
            name
          }
        }
      }
    }
  }
`);

export const GenerateSettlementMutation = graphql(`
  mutation GenerateSettlement($input: GenerateSettlementInput!) {
    generateSettlement(input: $input) {
      __typename
      ... on GenerateSettlementPayload {
        settlement {
          ...SettlementDetail
        }
      }
      ... on Error {
        code
        message
      }
      ... on InvalidInputError {
        field
      }
      ... on NotFoundError {
        field
      }
    }
  }
`);

export const ApproveSettlementMutation = graphql(`
  mutation ApproveSettlement($input: SettlementActionInput!) {
    approveSettlement(input: $input) {
      __typename
      ... on ApproveSettlementPayload {
        settlement {
          ...SettlementDetail
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const PaySettlementMutation = graphql(`
  mutation PaySettlement($input: SettlementActionInput!) {
    paySettlement(input: $input) {
      __typename
      ... on PaySettlementPayload {
        settlement {
          ...SettlementDetail
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const VoidSettlementMutation = graphql(`
  mutation VoidSettlement($input: SettlementActionInput!) {
    voidSettlement(input: $input) {
      __typename
      ... on VoidSettlementPayload {
        settlement {
          ...SettlementDetail
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);
