"""Where a webhook may be sent: URL rules and the SSRF check, through one injectable resolver.

A URL is checked when an endpoint is created or its URL changed, and again at every delivery,
after name resolution: every address the name resolves to must be public (not loopback,
private, link-local, unique-local, shared, reserved or multicast; an IPv6 address that carries an
IPv4 address, IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64 (64:ff9b::/96), 6to4 or Teredo,
is judged by the IPv4 address inside, and NAT64's local-use prefix 64:ff9b:1::/48 is never
public), unless the operator allows private networks (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true). The
port is 1-65535. The delivery then connects to the address that was
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


# IPv6 prefixes whose last 32 bits are an IPv4 address the packets reach (through a translator or
# a tunnel, or the host's own IPv4 stack): IPv4-compatible (::/96, deprecated, :: and ::1 included:
# 0.0.0.0 and 0.0.0.1 are refused), IPv4-translated (SIIT) and NAT64's well-known prefix. (IPv4-
# mapped, 6to4 and Teredo are ipaddress's own properties.)
_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(prefix) for prefix in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# NAT64's local-use prefix (RFC 8215): a translator may put the IPv4 address at several places
# (/48 to /96, RFC 6052), and the prefix is not globally reachable; never public.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


# ISATAP (RFC 5214): an interface identifier of 0000:5efe or 0200:5efe (the universal/local bit)
# followed by the host's IPv4 address, after any /64 prefix; the packets reach that IPv4 address.
_ISATAP_MARK = 0x00005EFE


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (none for a plain IPv6 address or an IPv4
    address): Teredo gives two, its server and its client; ISATAP gives its host's."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    plain = ipaddress.IPv6Address(int(address))  # without a zone id
    if plain.ipv4_mapped is not None:
        return [plain.ipv4_mapped]
    if plain.sixtofour is not None:
        return [plain.sixtofour]
    if plain.teredo is not None:
        return list(plain.teredo)
    if any(plain in prefix for prefix in _LAST_32_BITS):
        return [ipaddress.IPv4Address(int(plain) & 0xFFFFFFFF)]
    if (int(plain) >> 32) & 0xFDFFFFFF == _ISATAP_MARK:  # any /64, then [02]00:5efe:a.b.c.d
        return [ipaddress.IPv4Address(int(plain) & 0xFFFFFFFF)]
    return []


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if ipaddress.IPv6Address(int(address)) in _NAT64_LOCAL_USE:
            return False
        inner = embedded_ipv4(address)
        if inner:  # judged by where the packets go
            return all(is_public(ipv4) for ipv4 in inner)
    return address.is_global and not address.is_multicast


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
    if port is not None and not 1 <= port <= 65535:
        raise UrlRefused("The port must be 1-65535.")
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
