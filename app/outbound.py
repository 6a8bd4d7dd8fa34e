"""What a request made on a merchant's behalf (an image import, a webhook)
may reach: the one place that decides, against server-side request forgery.

The host is looked up once (tenants.dns) and every address it has must be
public; the caller then connects to a checked address, keeping the URL's
name for the Host header and TLS, so a name that answers a public address
to the check and 127.0.0.1 to the connection (DNS rebinding) has no second
lookup to win. Refused: loopback, private, link-local, shared, reserved and
multicast addresses, and IPv6 ranges that wrap an IPv4 address of any kind
(NAT64, 6to4, Teredo, IPv4-compatible/-translated), since a gateway could
unwrap one into a private address. Loopback is let through only when the
caller allows it (tests, development).
"""
from __future__ import annotations

import ipaddress

from tenants.dns import DnsSettings, DnsUnavailable, IPAddress, NoSuchName, addresses as dns_addresses

WRAPPING_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "64:ff9b::/96",  # NAT64 (RFC 6052)
    "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
    "2002::/16",  # 6to4
    "2001::/32",  # Teredo
    "::/96",  # IPv4-compatible (deprecated)
    "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
))
PRIVATE = "a private network address"
WRAPPED = "an IPv6 address that wraps an IPv4 one (NAT64, 6to4 or Teredo), which could reach a private network"


class HostNotFound(Exception):
    """The name does not exist, or could not be looked up in time: `reason` says which."""

    def __init__(self, hostname: str, reason: str):
        super().__init__(f"the host {hostname} {reason}")
        self.hostname, self.reason = hostname, reason


class NotPublic(Exception):
    """One of the host's addresses may not be reached."""

    def __init__(self, address: IPAddress, what: str):
        super().__init__(f"{address} is {what}")
        self.address, self.what = address, what


def refusal(address: IPAddress, allow_loopback: bool = False) -> str | None:
    """What is wrong with reaching `address` (PRIVATE or WRAPPED), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else PRIVATE
    if any(address in network for network in WRAPPING_NETWORKS if network.version == address.version):
        return WRAPPED
    if (not address.is_global or address.is_private or address.is_reserved or address.is_multicast
            or address.is_link_local or address.is_unspecified):
        return PRIVATE
    return None


def public_addresses(hostname: str, dns: DnsSettings, *, allow_loopback: bool = False,
                     timeout: float | None = None) -> list[IPAddress]:
    """Every address of `hostname` from one lookup; NotPublic if any may not be reached,
    HostNotFound if there are none to be had."""
    try:
        found = dns_addresses(hostname, dns, timeout=timeout)
    except NoSuchName:
        raise HostNotFound(hostname, "cannot be found") from None
    except DnsUnavailable:
        raise HostNotFound(hostname, "could not be looked up in time") from None
    for address in found:
        what = refusal(address, allow_loopback)
        if what:
            raise NotPublic(address, what)
    return found
