"""Signatures: the app signs, the example receiver's stand-alone verifier (and the app's)
accept exactly the untouched, recent requests."""

from __future__ import annotations

import time

import pytest

from app.webhooks.signing import SignatureError, sign, verify
from tests.webhooks.receiver import example

SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"order.placed"}'


def test_a_signed_body_verifies_with_both_verifiers() -> None:
    header = sign(SECRET, BODY)
    assert header.startswith("t=")
    assert ",v1=" in header
    assert verify(SECRET, BODY, header) == int(header[2 : header.index(",")])
    assert example.verify(SECRET, BODY, header) == verify(SECRET, BODY, header)


def test_the_scheme_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    digest = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, 1_700_000_000) == f"t=1700000000,v1={digest}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"evt_1","type":"order.paid"}',
        BODY + b" ",
        b"",
        BODY.replace(b"evt_1", b"evt_2"),
    ],
)
def test_a_tampered_body_fails(body: bytes) -> None:
    header = sign(SECRET, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, body, header)
    with pytest.raises(example.InvalidSignature):
        example.verify(SECRET, body, header)


def test_another_secret_fails() -> None:
    header = sign("whsec_other", BODY)
    with pytest.raises(SignatureError):
        verify(SECRET, BODY, header)
    with pytest.raises(example.InvalidSignature):
        example.verify(SECRET, BODY, header)


def test_a_stale_or_future_timestamp_fails() -> None:
    stale = sign(SECRET, BODY, int(time.time()) - 301)
    future = sign(SECRET, BODY, int(time.time()) + 301)
    for header in (stale, future):
        with pytest.raises(SignatureError, match="tolerance"):
            verify(SECRET, BODY, header)
        with pytest.raises(example.InvalidSignature, match="stale"):
            example.verify(SECRET, BODY, header)
    # Within the tolerance it passes; a wider tolerance accepts the old one.
    assert verify(SECRET, BODY, sign(SECRET, BODY, int(time.time()) - 200))
    assert verify(SECRET, BODY, stale, tolerance=600)


def test_a_changed_timestamp_fails() -> None:
    header = sign(SECRET, BODY, int(time.time()))
    digest = header.partition(",v1=")[2]
    moved = f"t={int(time.time()) - 5},v1={digest}"
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, moved)
    with pytest.raises(example.InvalidSignature):
        example.verify(SECRET, BODY, moved)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=123", "t=abc,v1=def", "garbage"])
def test_a_missing_or_malformed_header_fails(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, BODY, header)
    with pytest.raises(example.InvalidSignature):
        example.verify(SECRET, BODY, header)


def test_any_of_several_signatures_may_match() -> None:
    header = sign(SECRET, BODY)
    timestamp, _, digest = header.partition(",v1=")
    assert verify(SECRET, BODY, f"{timestamp},v1={'0' * 64},v1={digest}")
    assert example.verify(SECRET, BODY, f"{timestamp},v1={'0' * 64},v1={digest}")


def test_the_example_receiver_rejects_bad_requests_and_drops_duplicates() -> None:
    receiver = example.Receiver(SECRET)
    receiver.handle = lambda event: None
    assert receiver.receive(BODY, sign(SECRET, BODY)) == 200
    assert receiver.receive(BODY, sign(SECRET, BODY)) == 200  # the same event again
    assert receiver.receive(BODY + b" ", sign(SECRET, BODY)) == 400
    assert receiver.receive(BODY, sign(SECRET, BODY, int(time.time()) - 3600)) == 400
    assert [event["id"] for event in receiver.events] == ["evt_1"]
    assert (receiver.duplicates, receiver.rejected) == (1, 2)
