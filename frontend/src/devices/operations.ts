import { graphql } from "../gql";

export const DeviceRowFragment = graphql(`
  fragment DeviceRow on Device {
    id
    imei
    serial
    make
    model
    storageGb
    status
    client {
      id
      name
    }
  }
`);

export const DevicesQuery = graphql(`
  query Devices($first: Int!, $filter: DeviceFilter) {
    devices(first: $first, filter: $filter) {
      totalCount
      edges {
        node {
          ...DeviceRow
        }
      }
    }
  }
`);

export const ReceiveDeviceMutation = graphql(`
  mutation ReceiveDevice($input: ReceiveDeviceInput!) {
    receiveDevice(input: $input) {
      __typename
      ... on ReceiveDevicePayload {
        device {
          ...DeviceRow
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
      ... on DuplicateDeviceError {
        field
      }
    }
  }
`);
