"""Choosing a bus backend by URL: the registry in ``ramparts/bus/__init__.py``."""

from __future__ import annotations

import sys

import pytest

import ramparts.bus as bus_pkg
from ramparts.bus import known_schemes, missing_driver_message, open_bus, register_backend
from ramparts.bus._common import redact_url
from ramparts.bus.embedded import EmbeddedBus
from ramparts.errors import ConfigError


def test_known_schemes() -> None:
    assert known_schemes() == ["embedded", "nats", "redis", "rediss"]


def test_embedded_url_opens_embedded_bus(tmp_path) -> None:
    assert isinstance(open_bus(f"embedded://{tmp_path}/bus.db"), EmbeddedBus)


@pytest.mark.parametrize("url", ["kafka://broker:9092", "/var/lib/bus.db", "redis:/x", ""])
def test_unknown_scheme_names_it_and_the_known_ones(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_bus(url)
    message = str(info.value)
    assert "unknown event bus URL scheme" in message
    assert "embedded://, nats://, redis://, rediss://" in message
    if url.startswith("kafka"):
        assert "'kafka'" in message


def test_errors_never_show_a_password() -> None:
    with pytest.raises(ConfigError) as info:
        open_bus("kafka://admin:hunter2@broker:9092/x")
    assert "hunter2" not in str(info.value)
    assert "admin:***@broker:9092" in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
        ("nats://u:p%40ss@[::1]:4222", "nats://u:***@[::1]:4222"),
        ("redis://h:6379", "redis://h:6379"),
        ("redis://u:pa/ss#x@h:6379/0", "redis://u:***@h:6379/0"),
        ("nats://s3cr3t-token@h:4222", "nats://***@h:4222"),
        ("user:pw@host", "***"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_missing_driver_message_says_which_extra() -> None:
    assert missing_driver_message("redis", "redis", "redis") == (
        "the redis:// event bus needs the 'redis' package, which is not installed;"
        " install it with: pip install 'ramparts[redis]'"
    )
    assert "pip install 'ramparts[nats]'" in missing_driver_message("nats", "nats", "nats")


@pytest.mark.parametrize(
    ("url", "driver", "module", "extra"),
    [
        ("rediss://h:6380", "redis", "ramparts.bus.redis", "redis"),
        ("nats://h:4222", "nats", "ramparts.bus.nats", "nats"),
    ],
)
def test_missing_driver_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, url: str, driver: str, module: str, extra: str
) -> None:
    # None in sys.modules makes ``import <driver>`` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, driver, None)
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ConfigError) as info:
        open_bus(url)
    assert f"pip install 'ramparts[{extra}]'" in str(info.value)


def test_duplicate_registration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_pkg, "_REGISTRY", dict(bus_pkg._REGISTRY))
    with pytest.raises(ConfigError, match="redis"):
        register_backend(("mq", "redis"), "somewhere.else", "Impostor")
    # Nothing of the refused registration took effect.
    assert "mq" not in known_schemes()
    assert bus_pkg._REGISTRY["redis"].module == "ramparts.bus.redis"


@pytest.mark.parametrize(
    "url",
    [
        "redis://h/0?key_prefix=",
        "redis://h/0?key_prefix=a{b}",
        "nats://h:4222?stream=a.b",
        "nats://h:4222?subjects=a.>",
        "nats://h:4222?replicas=9",
        "nats://h:4222?bogus=1",
    ],
)
def test_bad_backend_options_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_bus(url)
