"""Values that stand in for secrets: masked, redacted, templated, booleans, digests."""

GenerateSecret = "false"
client_secret = "null"
PASSWORD = "xxxxxxxxxxxx"
api_key = "[REDACTED]"
SECRET_KEY = "{{ secret_key }}"
BUNDLE_SRI = "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"
