"""RP-L008: the random module making tokens, passwords and secrets (not shuffling data)."""

from __future__ import annotations

import pytest

from tests.scan.logic.conftest import Scan

VULNERABLE = {
    "token_join": """
        import random
        import string

        def new_session():
            token = "".join(random.choice(string.ascii_letters) for _ in range(32))  # L008
            return token
        """,
    "reset_code": """
        from random import randint

        def send_reset(user):
            reset_code = randint(100000, 999999)  # L008
            user.mail(reset_code)
        """,
    "function_name": """
        import random

        def generate_password(n=12):
            return "".join(random.choices("abcdefghijk0123456789", k=n))  # L008
        """,
    "dict_entry": """
        import random

        def handler(event, context):
            return {"statusCode": 200, "body": {"api_key": random.getrandbits(128)}}  # L008
        """,
    "joined_choices_under_a_plain_name": """
        import random
        import string

        def create_link(user):
            ref = "".join(random.choices(string.ascii_letters + string.digits, k=24))  # L008
            return f"https://example.com/share/{ref}"
        """,
    "joined_digits_code": """
        import random

        def send_code(phone):
            digits = "".join(str(random.randrange(10)) for _ in range(6))  # L008
            sms(phone, digits)
        """,
}

SAFE = {
    "shuffle_and_sample": """
        import random

        def handler(event, context):
            items = list(event["items"])
            random.shuffle(items)
            pick = random.choice(items)
            delay = random.uniform(0.1, 0.5)
            return {"statusCode": 200, "body": {"pick": pick, "delay": delay}}
        """,
    "secrets_module": """
        import secrets

        def new_session():
            token = secrets.token_urlsafe(32)
            return token
        """,
    "system_random": """
        import random

        def generate_password():
            rng = random.SystemRandom()
            return "".join(rng.choice("abc0123") for _ in range(16))
        """,
    "short_random_suffix": """
        import random
        import string

        def temp_name(stem):
            suffix = "".join(random.choice(string.ascii_lowercase) for _ in range(4))
            return f"{stem}-{suffix}"
        """,
    "joined_secrets_choice": """
        import secrets
        import string

        def create_link(user):
            ref = "".join(secrets.choice(string.ascii_letters) for _ in range(24))
            return f"https://example.com/share/{ref}"
        """,
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_predictable_secrets_are_found(scan: Scan, name: str) -> None:
    got, want, findings = scan(VULNERABLE[name])
    assert want and got == want
    assert all(f.cwe == "CWE-330" for f in findings)


@pytest.mark.parametrize("name", sorted(SAFE))
def test_random_for_data_is_clean(scan: Scan, name: str) -> None:
    got, _, _ = scan(SAFE[name])
    assert got == set()
