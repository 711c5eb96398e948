"""Default passwords work when shipped, and a key next to placeholders is still a key."""

PASSWORD = "xxxxxxxxxxxx"
DB_PASSWORD = "changeme"
SIGNING_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzqR8a9bLmQ"
