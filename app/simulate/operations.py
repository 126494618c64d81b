"""The GraphQL documents the simulator sends."""

from __future__ import annotations

_ERROR = "__typename ... on Error { code message }"


def _mutation(field: str, input_type: str, selection: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {_ERROR} {selection} }} }}"
    )


SIGN_IN = f"""
mutation($email: String!, $password: String!) {{
  signIn(email: $email, password: $password) {{
    {_ERROR}
    ... on SignInPayload {{ token organization {{ id kind }} }}
  }}
}}
"""
RECEIVE_DEVICE = _mutation(
    "receiveDevice", "ReceiveDeviceInput", "... on ReceiveDevicePayload { device { id } }"
)
CREATE_LOT = _mutation("createLot", "CreateLotInput", "... on CreateLotPayload { lot { id } }")
RECEIVE_LOT = _mutation(
    "receiveLot", "ReceiveLotInput", "... on ReceiveLotPayload { devices { id } }"
)
RECONCILE_LOT = _mutation(
    "reconcileLot", "ReconcileLotInput", "... on ReconcileLotPayload { lot { id status } }"
)
CLOSE_LOT = _mutation("closeLot", "CloseLotInput", "... on CloseLotPayload { lot { id status } }")
RECORD_GRADE = _mutation(
    "recordGrade", "RecordGradeInput", "... on RecordGradePayload { device { id status } }"
)
CREATE_LISTING = _mutation(
    "createListing", "CreateListingInput", "... on ListingPayload { listing { id } }"
)
PUBLISH_LISTING = _mutation(
    "publishListing", "ListingActionInput", "... on ListingPayload { listing { id status } }"
)
MAKE_OFFER = _mutation("makeOffer", "MakeOfferInput", "... on OfferPayload { offer { id } }")
COUNTER_OFFER = _mutation(
    "counterOffer", "CounterOfferInput", "... on CounterOfferPayload { offer { id } }"
)
ACCEPT_OFFER = _mutation("acceptOffer", "AcceptOfferInput", "... on AcceptOfferPayload { orderId }")
REJECT_OFFER = _mutation("rejectOffer", "RejectOfferInput", "... on OfferPayload { offer { id } }")
BUY_LISTINGS = _mutation(
    "buyListings", "BuyListingsInput", "... on BuyListingsPayload { order { id } }"
)
CONFIRM_ORDER = _mutation(
    "confirmOrder", "ConfirmOrderInput", "... on ConfirmOrderPayload { order { id status } }"
)
SHIP_ORDER = _mutation(
    "shipOrder", "ShipOrderInput", "... on ShipOrderPayload { order { id status } }"
)
MARK_DELIVERED = _mutation(
    "markDelivered", "MarkDeliveredInput", "... on MarkDeliveredPayload { order { id status } }"
)
COMPLETE_ORDER = _mutation(
    "completeOrder", "CompleteOrderInput", "... on CompleteOrderPayload { order { id status } }"
)
GENERATE_SETTLEMENT = _mutation(
    "generateSettlement",
    "GenerateSettlementInput",
    "... on GenerateSettlementPayload { settlement { id lineCount } }",
)
APPROVE_SETTLEMENT = _mutation(
    "approveSettlement",
    "SettlementActionInput",
    "... on ApproveSettlementPayload { settlement { id status } }",
)
PAY_SETTLEMENT = _mutation(
    "paySettlement",
    "SettlementActionInput",
    "... on PaySettlementPayload { settlement { id status } }",
)
BOARD = """
query Board {
  listings(first: 50, filter: {status: [ACTIVE]}) {
    edges { node { id price { amountMinor currency } device { make model storageGb
      currentGrade { cosmetic } } } }
  }
}
"""
