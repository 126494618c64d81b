import { graphql } from "../gql";

export const ApiKeyRowFragment = graphql(`
  fragment ApiKeyRow on ApiKey {
    id
    name
    prefix
    scopes
    createdAt
    lastUsedAt
    revokedAt
    organization {
      id
      name
    }
  }
`);

export const ApiKeysQuery = graphql(`
  query ApiKeys {
    apiKeys(includeRevoked: true, first: 100) {
      totalCount
      edges {
        node {
          ...ApiKeyRow
        }
      }
    }
  }
`);

export const CreateApiKeyMutation = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      __typename
      ... on CreateApiKeyPayload {
        secret
        apiKey {
          ...ApiKeyRow
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

export const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      __typename
      ... on RevokeApiKeyPayload {
        apiKey {
          ...ApiKeyRow
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);
