"""Event patterns: EventBridge's filter syntax, shared by triggers' ``filters``."""
