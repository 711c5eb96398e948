"""SIEM export: every stored audit record, sent on to outside collectors.

``ramparts up --siem URL`` (repeatable) names the destinations; the URL's
scheme picks the transport and the format (``targets``):

- ``syslog+udp://``, ``syslog+tcp://``, ``syslog+tls://``: RFC 5424 syslog
  whose message is a CEF line (``cef``, ``syslog``);
- ``ocsf+file:///path``: OCSF JSON lines appended to a file (``ocsf``);
- ``ocsf+https://`` (``ocsf+http://`` to loopback only): OCSF events posted as
  Splunk HEC, Elasticsearch bulk or plain NDJSON (``?format=``).

Where it sits: the ``SiemExporter`` (``exporter``) is an ``AuditLog`` sink.
Its ``deliver`` only queues, on the audit writer thread; a spooler thread
writes each record to every destination's bounded on-disk ``spool`` and one
sender thread per destination drains it with batching, retries and backoff.
No request ever waits on a collector.
"""

from __future__ import annotations

from ramparts.observe.siem.exporter import SiemExporter
from ramparts.observe.siem.targets import Target, parse_target, parse_targets

__all__ = ["SiemExporter", "Target", "parse_target", "parse_targets"]
