"""The chief oracle's address, written one way by the chief and its workers.

    oracle_address("10.0.0.5", 8765)          # "10.0.0.5:8765"
    same_oracle("0.0.0.0:8765", "10.0.0.5:8765")   # True: the chief listens everywhere

The chief tags its parent run with its address (zoo.tuning.run_tree); a
worker finds the run by the address it was given, so the two must agree on
how an address is written and on which addresses name the same oracle.
"""

from __future__ import annotations

import ipaddress

WILDCARD_HOSTS = ("0.0.0.0", "::")  # a chief listening on every address of its machine


def oracle_address(host: str, port: int) -> str:
    """The oracle's address as one string, the same for the chief and its
    workers: "10.0.0.5:8765", "[::1]:8765" (host names lower-cased)."""
    name = host.strip().strip("[]").lower()
    return f"[{name}]:{int(port)}" if ":" in name else f"{name}:{int(port)}"


def split_oracle_address(address: str) -> tuple[str, int]:
    """oracle_address's inverse: ("10.0.0.5", 8765), ("::1", 8765)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or "localhost") is this machine's loopback."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name == "localhost"


def same_oracle(tagged: str | None, wanted: str) -> bool:
    """Whether the chief's address `tagged` may be the oracle at `wanted`:
    the same port, and the same host, a chief listening on every address,
    or loopback on both sides (one machine; see run_tree.choose_parent)."""
    if not tagged:
        return False
    (host, port), (wanted_host, wanted_port) = (split_oracle_address(tagged),
                                                split_oracle_address(wanted))
    return port == wanted_port and (host == wanted_host or host in WILDCARD_HOSTS
                                    or is_loopback(host) and is_loopback(wanted_host))
