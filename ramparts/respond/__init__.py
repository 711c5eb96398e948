"""Incident response: detection rules over the security-event stream, and the alerts they raise.

``rules`` loads and validates rule files (YAML); ``detections`` evaluates them
as audit and invocation records stream in; ``alerts`` deduplicates, stores and
announces what fired; ``notifier`` delivers alerts to an outside webhook.  The
node wires them to the audit and invocation logs' sinks, so nothing here runs on
the request path.
"""
