import { graphql } from "../gql";

export const DeviceRowFragment = graphql(`
  fragment DeviceRow on Device {
    id
    imei
    serial
    make
    model
    storageGb
    colour
    location
    status
    version
    lockStatus
    blacklistStatus
    receivedAt
    client {
      id
      name
    }
    lot {
      id
      reference
    }
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
`);

export const DevicesQuery = graphql(`
  query Devices($first: Int!, $filter: DeviceFilter, $sort: DeviceSort!) {
    devices(first: $first, filter: $filter, sort: $sort) {
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

export const RecordGradeMutation = graphql(`
  mutation RecordGrade($input: RecordGradeInput!) {
    recordGrade(input: $input) {
      __typename
      ... on RecordGradePayload {
        delisted
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
    }
  }
`);

export const QuarantineDeviceMutation = graphql(`
  mutation QuarantineDevice($input: QuarantineDeviceInput!) {
    quarantineDevice(input: $input) {
      __typename
      ... on QuarantineDevicePayload {
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
    }
  }
`);

export const ClearQuarantineMutation = graphql(`
  mutation ClearQuarantine($input: ClearQuarantineInput!) {
    clearQuarantine(input: $input) {
      __typename
      ... on ClearQuarantinePayload {
        device {
          ...DeviceRow
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const LotRowFragment = graphql(`
  fragment LotRow on Lot {
    id
    reference
    expectedCount
    receivedCount
    missingCount
    extraCount
    status
    version
    createdAt
    client {
      id
      name
    }
  }
`);

export const LotsQuery = graphql(`
  query Lots($first: Int!, $filter: LotFilter) {
    lots(first: $first, filter: $filter) {
      totalCount
      edges {
        node {
          ...LotRow
        }
      }
    }
  }
`);

export const LotDevicesQuery = graphql(`
  query LotDevices($filter: DeviceFilter!) {
    devices(first: 100, filter: $filter, sort: NEWEST) {
      totalCount
      edges {
        node {
          id
          imei
          serial
          make
          model
          storageGb
          status
          receivedAt
        }
      }
    }
  }
`);

/** Clients to pick from: the API has no list of organisations, so they come from devices. */
export const KnownClientsQuery = graphql(`
  query KnownClients {
    lots(first: 100) {
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
    devices(first: 100, sort: NEWEST) {
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

export const CreateLotMutation = graphql(`
  mutation CreateLot($input: CreateLotInput!) {
    createLot(input: $input) {
      __typename
      ... on CreateLotPayload {
        lot {
          ...LotRow
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

export const ReconcileLotMutation = graphql(`
  mutation ReconcileLot($input: ReconcileLotInput!) {
    reconcileLot(input: $input) {
      __typename
      ... on ReconcileLotPayload {
        lot {
          ...LotRow
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const CloseLotMutation = graphql(`
  mutation CloseLot($input: CloseLotInput!) {
    closeLot(input: $input) {
      __typename
      ... on CloseLotPayload {
        lot {
          ...LotRow
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);

export const ShippingOrderFragment = graphql(`
  fragment ShippingOrder on Order {
    id
    status
    version
    createdAt
    buyer {
      id
      name
    }
    total {
      amount
      currency
    }
    lines {
      id
      released
      device {
        id
        imei
        serial
        make
        model
        storageGb
        location
        status
      }
    }
    shipments {
      id
      carrier
      trackingNumber
      status
      version
      shippedAt
    }
  }
`);

export const ShippingOrdersQuery = graphql(`
  query ShippingOrders($filter: OrderFilter) {
    orders(first: 100, filter: $filter, sort: OLDEST) {
      totalCount
      edges {
        node {
          ...ShippingOrder
        }
      }
    }
  }
`);

export const ShipOrderMutation = graphql(`
  mutation ShipOrder($input: ShipOrderInput!) {
    shipOrder(input: $input) {
      __typename
      ... on ShipOrderPayload {
        shipment {
          id
          trackingNumber
        }
        order {
          ...ShippingOrder
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

export const MarkDeliveredMutation = graphql(`
  mutation MarkDelivered($input: MarkDeliveredInput!) {
    markDelivered(input: $input) {
      __typename
      ... on MarkDeliveredPayload {
        order {
          ...ShippingOrder
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`);
