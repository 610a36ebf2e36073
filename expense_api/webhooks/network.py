"""Where a webhook may be sent: URL rules and the SSRF check, through one injectable resolver.

A URL is checked when an endpoint is created or its URL changed, and again at every delivery,
after name resolution: every address the name resolves to must be public (not loopback,
private, link-local, unique-local, shared, reserved or multicast; an IPv4-mapped or 6to4/Teredo
IPv6 address is judged by the IPv4 address inside), unless the operator allows private networks
(WEBHOOK_ALLOW_PRIVATE_NETWORKS=true). The delivery then connects to the address that was
checked, never resolving the name a second time (no DNS rebinding between check and connect).

`resolver` is the only place a name is resolved; tests replace it so they never resolve a real
name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """The URL may not be used as a webhook target; the message says why, for the client."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolves `host` to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0] for info in infos))


# (host, port) -> addresses. Module-level so the delivery job and the API share it, and tests
# replace it (monkeypatch) instead of resolving real names.
resolver: Callable[[str, int], list[str]] = system_resolver


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address that passed the check) and what to ask for."""

    url: str
    scheme: str
    host: str  # as written in the URL (the Host header and the TLS server name)
    port: int
    address: str

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if ":" in self.address else self.address
        return parts._replace(netloc=f"{host}:{self.port}").geturl()

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _inner_ipv4(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None:
                return inner
        if address.teredo is not None:
            return address.teredo[1]  # the client's address
    return address


def is_public(address: Address) -> bool:
    inner = _inner_ipv4(address)  # the address itself when it carries no IPv4 address
    return inner.is_global and not inner.is_multicast


def check_url(url: str, *, https_only: bool, allow_private: bool) -> Target:
    """The URL's target, resolved and checked; UrlRefused says why it may not be used."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"At most {MAX_URL_LENGTH} characters.")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise UrlRefused("Must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("Not a valid URL.") from None
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes:
        raise UrlRefused(f"Must be an {' or '.join(schemes)} URL.")
    if not parts.hostname:
        raise UrlRefused("Must name a host.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("Must not carry a user name or password.")
    if parts.fragment:
        raise UrlRefused("Must not have a #fragment.")
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    addresses = _resolve(host, port)
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UrlRefused(
                f"{host} resolves to {refused[0]}, a private, loopback, link-local or reserved "
                "address; webhooks go to public addresses only."
            )
    return Target(url=url, scheme=parts.scheme, host=host, port=port, address=str(addresses[0]))


def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]  # an address literal: nothing to resolve
    except ValueError:
        pass
    try:
        found = resolver(host, port)
    except (OSError, ValueError):  # not found; or a name no resolver takes (bad IDNA, NUL)
        found = []
    addresses = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))  # drop a zone id
        except ValueError:
            continue
    if not addresses:
        raise UrlRefused(f"{host} does not resolve to an address.")
    return addresses
