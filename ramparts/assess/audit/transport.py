"""Transport check: RP-A010, a gateway serving plain HTTP off loopback.

The node refuses that unless started with ``--insecure-http``; the audit says
when that escape hatch is in use.  Not checked: the certificate's validity or
strength, and a TLS-terminating proxy in front of the node (the audit cannot
see it: list the finding as accepted in your own records if one is there).
"""

from __future__ import annotations

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
