"""Settings: what compose's `${VAR:-}` passes for a secret not given (an empty string) is unset."""

from __future__ import annotations

import pytest

from homesafe.settings import Settings

pytestmark = pytest.mark.unit


def test_empty_secrets_are_unset(monkeypatch):
    monkeypatch.setenv("HOMESAFE_GATEWAY_KEY", "")
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "")
    settings = Settings(_env_file=None)
    assert settings.gateway_key is None
    assert settings.audit_key is None


def test_raw_retention_defaults_to_13_months_and_refuses_less_than_the_late_limit(monkeypatch):
    assert Settings(_env_file=None).retention_raw_days == 397
    monkeypatch.setenv("HOMESAFE_RETENTION_RAW_DAYS", "30")
    with pytest.raises(ValueError, match="at least 40"):
        Settings(_env_file=None)
