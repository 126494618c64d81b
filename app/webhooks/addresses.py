"""Where webhooks may go: http(s) URLs whose host resolves only to public addresses.

Every address the host resolves to is checked with ``ipaddress``: private, loopback,
link-local, multicast, reserved and unspecified ones are refused (the cloud metadata service,
the database next door, the app itself), unless the deployment allows private targets
(``DEVICEGRAPH_WEBHOOK_ALLOW_PRIVATE=true``, for a receiver on the same network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


class AddressRefused(ValueError):
    """The URL is malformed, or its host is (or resolves to) an address that is refused."""


def check_url(url: str) -> str:
    """The URL, trimmed, when it is an absolute http(s) URL with a host; else AddressRefused."""
    cleaned = url.strip()
    if not 0 < len(cleaned) <= MAX_URL:
        raise AddressRefused(f"A webhook URL has 1 to {MAX_URL} characters.")
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise AddressRefused("The webhook URL is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("A webhook URL is an absolute http:// or https:// URL.")
    if parts.username or parts.password:
        raise AddressRefused("A webhook URL may not carry a user name or password.")
    return cleaned


def is_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_literal_host(url: str, *, allow_private: bool) -> None:
    """Refuse at once a URL naming a refused address literally (or ``localhost``)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if allow_private:
        return
    address = literal_address(host)
    if host == "localhost" or host.endswith(".localhost"):
        raise AddressRefused(f"{host} is a loopback address: webhooks may not go there.")
    if address is not None and is_refused(address):
        raise AddressRefused(f"{address} is not a public address: webhooks may not go there.")


async def check_destination(url: str, *, allow_private: bool) -> None:
    """Resolve the URL's host and refuse it when any of its addresses is not public."""
    if allow_private:
        return
    check_literal_host(url, allow_private=False)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AddressRefused(f"{host} does not resolve: {exc}") from None
    if not infos:
        raise AddressRefused(f"{host} does not resolve.")
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if is_refused(address):
            raise AddressRefused(
                f"{host} resolves to {address}, not a public address: webhooks may not go there."
            )
