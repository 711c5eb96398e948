"""Transport checks: RP-A010, a gateway serving plain HTTP off loopback, and
RP-A022, trusted proxies (``--forwarded-allow-ips``) broader than a proxy needs.

The node refuses that unless started with ``--insecure-http``; the audit says
when that escape hatch is in use.  Not checked: the certificate's validity or
strength, and a TLS-terminating proxy in front of the node (the audit cannot
see it: list the finding as accepted in your own records if one is there).
"""

from __future__ import annotations

import ipaddress

from ramparts.assess.audit.inputs import PostureInputs
from ramparts.assess.findings import Finding
from ramparts.tls import is_loopback


def check_tls(inputs: PostureInputs) -> list[Finding]:
    node = inputs.node
    if node.tls or is_loopback(node.gateway_host):
        return []
    return [
        Finding(
            "RP-A010",
            f"gateway {node.gateway_host}",
            f"node {node.node_id} serves plain HTTP on {node.gateway_host} (--insecure-http)",
        )
    ]


# The widest network the audit takes for "the proxies": a /24 of IPv4, a /64 of
# IPv6.  The node itself refuses more than a /8 or a /32 at start-up; between
# the two the set starts but is flagged.
_PROXY_MAX_PREFIX_V4 = 24
_PROXY_MAX_PREFIX_V6 = 64


def check_trusted_proxies(inputs: PostureInputs) -> list[Finding]:
    """RP-A022: every client inside a trusted proxy network picks its own source address.

    Flags each ``--forwarded-allow-ips`` network that is wider than a /24
    (IPv4) or /64 (IPv6), or that holds public (non-private) addresses, where
    a client rather than a proxy could sit.
    """
    findings: list[Finding] = []
    for entry in filter(None, (e.strip() for e in inputs.node.forwarded_allow_ips.split(","))):
        net = ipaddress.ip_network(entry, strict=False)
        widest = _PROXY_MAX_PREFIX_V4 if net.version == 4 else _PROXY_MAX_PREFIX_V6
        why = []
        if net.prefixlen < widest:
            why.append(f"wider than /{widest}")
        if not (net.network_address.is_private and net.broadcast_address.is_private):
            why.append("holds public addresses")
        if why:
            findings.append(
                Finding(
                    "RP-A022",
                    f"forwarded-allow-ips {net}",
                    f"node {inputs.node.node_id} trusts X-Forwarded-For from {net} "
                    f"({' and '.join(why)}): clients there can choose their own source address",
                )
            )
    return findings
