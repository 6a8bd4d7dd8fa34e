"""DNS lookups for domain checks and image fetches, with dnspython.

The servers come from DNS_RESOLVERS ("ip" or "ip:port", "[v6]:port"; none
means the system's, from /etc/resolv.conf) and every lookup gives up after
DNS_TIMEOUT seconds. Nothing is cached here: a check must see what DNS says
now, and a fetch connects to exactly the addresses one lookup returned.

Answers come in three kinds, because callers treat them differently:
- records (possibly none: the name exists but has no record of that type);
- `NoSuchName`: the name does not exist (NXDOMAIN), a definite answer;
- `DnsUnavailable`: no server gave an answer (timeout, SERVFAIL), which
  says nothing about the name.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from flask import current_app, has_app_context

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_TIMEOUT = 5.0


class NoSuchName(LookupError):
    """The name does not exist in DNS (NXDOMAIN)."""


class DnsUnavailable(LookupError):
    """No DNS server answered in time (or each one failed): try again later."""


@dataclass(frozen=True)
class DnsSettings:
    servers: tuple[tuple[str, int], ...] = ()  # empty: the system's resolvers
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_config(cls, config) -> DnsSettings:
        return cls(tuple(parse_server(each) for each in config.get("DNS_RESOLVERS") or ()),
                   float(config.get("DNS_TIMEOUT", DEFAULT_TIMEOUT)))


def current_settings() -> DnsSettings:
    """The app's DNS settings; outside an app the system's resolvers."""
    return DnsSettings.from_config(current_app.config) if has_app_context() else DnsSettings()


def parse_server(text: str) -> tuple[str, int]:
    """ "1.2.3.4", "1.2.3.4:5353", "::1" or "[::1]:5353" -> (address, port)."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        port = int(number)
    ipaddress.ip_address(host)  # a name here would need DNS to find DNS
    if not 0 < port < 65536:
        raise ValueError(f"DNS server port out of range: {text!r}")
    return host, port


def _resolver(settings: DnsSettings, timeout: float | None) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=not settings.servers)
    if settings.servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in settings.servers]
    resolver.cache = None
    resolver.lifetime = resolver.timeout = max(0.05, min(settings.timeout, timeout or settings.timeout))
    return resolver


def _query(name: str, rdtype: str, settings: DnsSettings, timeout: float | None = None) -> list:
    """The records of one type at `name`: [] when the name has none of that type."""
    try:
        answer = _resolver(settings, timeout).resolve(dns.name.from_text(name), rdtype, search=False)
    except dns.resolver.NXDOMAIN:
        raise NoSuchName(name) from None
    except dns.resolver.NoAnswer:
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.YXDOMAIN):
        raise DnsUnavailable(name) from None
    except (dns.exception.DNSException, ValueError, UnicodeError):
        raise NoSuchName(name) from None  # not a name DNS can carry
    return [record for record in answer if record.rdtype == dns.rdatatype.from_text(rdtype)]


def txt_values(name: str, settings: DnsSettings) -> list[str]:
    """Each TXT record at `name` as one string (its pieces joined)."""
    return [b"".join(record.strings).decode("utf-8", "replace") for record in _query(name, "TXT", settings)]


def cname_target(name: str, settings: DnsSettings) -> str | None:
    """Where `name` is an alias to (lower case, no trailing dot), or None."""
    records = _query(name, "CNAME", settings)
    return records[0].target.to_text(omit_final_dot=True).lower() if records else None


def addresses(host: str, settings: DnsSettings, timeout: float | None = None) -> list[IPAddress]:
    """Every IPv4 and IPv6 address of `host` (an address literal is itself).
    `localhost` names are loopback without asking DNS (RFC 6761)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    found = [ipaddress.ip_address(record.address)
             for rdtype in ("A", "AAAA") for record in _query(host, rdtype, settings, timeout)]
    if not found:
        raise NoSuchName(host)
    return found
