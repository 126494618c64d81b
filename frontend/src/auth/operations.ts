import { graphql } from "../gql";

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      user {
        id
        name
        email
        role
      }
      organization {
        id
        name
        kind
        currency
      }
    }
  }
`);

export const SignInMutation = graphql(`
  mutation SignIn($email: String!, $password: String!) {
    signIn(email: $email, password: $password) {
      __typename
      ... on SignInPayload {
        token
        expiresAt
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const SignOutMutation = graphql(`
  mutation SignOut {
    signOut
  }
`);
