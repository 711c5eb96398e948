"""Keys and encryption at rest: master key, keyring, envelope encryption, re-wrap, KMS."""
