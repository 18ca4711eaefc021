"""parse_mqtt_url: the HOMESAFE_MQTT_URL shape."""

from __future__ import annotations

import pytest

from ingest.subscriber import parse_mqtt_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1884", ("127.0.0.1", 1884, None, None, False)),
        (
            "mqtt://ingest:s%40cret@broker.local:1883",
            ("broker.local", 1883, "ingest", "s@cret", False),
        ),
        ("mqtt://broker", ("broker", 1883, None, None, False)),
        ("mqtts://u:p@broker", ("broker", 8883, "u", "p", True)),
    ],
)
def test_parse_mqtt_url(url: str, expected: tuple[object, ...]) -> None:
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize("url", ["http://x", "mqtt://", "mqtt://h:notaport"])
def test_parse_mqtt_url_refuses_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match="MQTT URL"):
        parse_mqtt_url(url)
