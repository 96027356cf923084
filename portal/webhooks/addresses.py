"""Where a webhook may be sent: public addresses only (no loopback, private, link-local,
cloud metadata or other reserved ranges), unless loopback receivers are allowed for
development and tests. Checked when the URL is saved and again, on the resolved addresses,
at every delivery, which then connects to exactly the address that was checked."""

import ipaddress
import socket

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class UnsafeAddress(Exception):
    pass


def unsafe_reason(host: str, *, allow_loopback: bool, resolve: bool = True) -> str | None:
    """Why ``host`` may not receive webhooks, or None. Without ``resolve`` only a literal
    address or a well-known internal name is judged (the name is resolved at delivery)."""
    host = host.strip("[]").lower().rstrip(".")
    if host in METADATA_HOSTS:
        return "That host is a cloud metadata service."
    if host == "localhost" or host.endswith(".localhost"):
        return None if allow_loopback else "Webhooks cannot be sent to this server itself."
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return None
        try:
            addresses = resolve_host(host)
        except UnsafeAddress as exc:
            return str(exc)
    for address in addresses:
        reason = _address_reason(address, allow_loopback)
        if reason:
            return reason
    return None


def resolve_host(host: str, port: int = 443) -> list:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(f"The host does not resolve: {exc}") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def safe_addresses(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    """The addresses to connect to; UnsafeAddress when any address of the host is refused
    (a name that resolves to one public and one private address is refused)."""
    name = host.strip("[]").lower().rstrip(".")
    reason = unsafe_reason(name, allow_loopback=allow_loopback, resolve=False)
    if reason:
        raise UnsafeAddress(reason)
    try:
        addresses = [ipaddress.ip_address(name)]
    except ValueError:
        addresses = resolve_host(name, port)
    for address in addresses:
        reason = _address_reason(address, allow_loopback)
        if reason:
            raise UnsafeAddress(reason)
    return list(dict.fromkeys(str(a) for a in addresses))


# IPv6 forms that carry an IPv4 address a gateway may forward to (NAT64, IPv4-compatible).
_EMBEDDING = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")]


def _address_reason(address, allow_loopback: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and not address.is_loopback:
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None,))[-1]
        if embedded is None and any(address in net for net in _EMBEDDING):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded  # judged as the IPv4 address it reaches
    if address.is_loopback:
        return None if allow_loopback else "Webhooks cannot be sent to this server itself."
    if address.is_link_local:
        return "Link-local and cloud metadata addresses cannot receive webhooks."
    if not address.is_global or address.is_multicast:
        return "Private and reserved addresses cannot receive webhooks."
    return None
