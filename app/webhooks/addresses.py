"""Which addresses a webhook may be delivered to.

A webhook URL is chosen by whoever holds a key: without these rules it would make the
server call its own admin ports, the private network behind it, or the cloud's metadata
service (which hands out credentials). The rules apply to every address the receiver's
host resolves to, at subscription and again inside each delivery's connection.
"""

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services (AWS, GCP, Azure, OpenStack, ECS and EKS, Alibaba, Oracle):
# never a receiver, whatever the settings allow.
METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
# Names that reach a metadata service from inside some clouds without any DNS record
# the rest of the world can see.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# NAT64 prefixes reach IPv4 hosts through the local network's translator: refused
# whatever the IPv4 address, the well-known one (RFC 6052) and the local-use one (RFC 8215),
# which Python 3.11 counts as global.
_NAT64_PREFIXES = (_NAT64, ipaddress.ip_network("64:ff9b:1::/48"))
# Site-local IPv6 (RFC 3879 deprecated it; some networks still route it): global for
# Python 3.11 too.
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64): each
    reaches that IPv4 host, so each must pass the rules too."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[IPAddress] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not receive a webhook, or None when it may."""
    for inner in [*_embedded(address), address]:
        reason = _refusal_of(inner, allow_private=allow_private)
        if reason is not None:
            return reason
    return None


def _refusal_of(address: IPAddress, *, allow_private: bool) -> str | None:
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if allow_private:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if isinstance(address, ipaddress.IPv6Address):
        if address in _SITE_LOCAL:
            return "a site-local address"
        if any(address in prefix for prefix in _NAT64_PREFIXES):
            return "a NAT64 address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def literal(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (brackets and an IPv6 zone allowed)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
