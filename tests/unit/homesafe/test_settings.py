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


def test_openid_connect_is_off_without_an_issuer(monkeypatch):
    from homesafe.bootstrap import oidc_client

    monkeypatch.setenv("HOMESAFE_OIDC_ISSUER", "")
    monkeypatch.setenv("HOMESAFE_OIDC_CLIENT_ID", "homesafe")
    assert oidc_client(Settings(_env_file=None)) is None


def test_openid_connect_settings_are_checked_whole(monkeypatch):
    from homesafe.bootstrap import oidc_client

    monkeypatch.setenv("HOMESAFE_OIDC_ISSUER", "https://login.landlord.example")
    with pytest.raises(ValueError, match="HOMESAFE_OIDC_CLIENT_ID"):
        Settings(_env_file=None)
    monkeypatch.setenv("HOMESAFE_OIDC_CLIENT_ID", "homesafe")
    with pytest.raises(ValueError, match="HOMESAFE_OIDC_ROLE_MAP"):
        Settings(_env_file=None)
    monkeypatch.setenv("HOMESAFE_OIDC_ROLE_MAP", "dm-team=compliance_officer")
    with pytest.raises(ValueError, match="not one of"):
        Settings(_env_file=None)
    monkeypatch.setenv("HOMESAFE_OIDC_ROLE_MAP", "compliance=compliance,dm-team=officer")
    monkeypatch.setenv("HOMESAFE_PUBLIC_URL", "https://homesafe.landlord.example/")
    client = oidc_client(Settings(_env_file=None))
    assert client is not None
    assert client.config.redirect_url == "https://homesafe.landlord.example/login/oidc/callback"
    assert client.config.role_map == (("compliance", "compliance"), ("dm-team", "officer"))
    assert client.config.client_secret is None  # a public client: PKCE alone
    monkeypatch.setenv("HOMESAFE_OIDC_SCOPES", "profile email")
    with pytest.raises(ValueError, match="openid"):
        Settings(_env_file=None)


def test_production_needs_https_for_openid_connect(monkeypatch):
    monkeypatch.setenv("HOMESAFE_PRODUCTION", "true")
    monkeypatch.setenv("HOMESAFE_GATEWAY_KEY", "g" * 40)
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("HOMESAFE_OIDC_ISSUER", "http://login.landlord.example")
    monkeypatch.setenv("HOMESAFE_OIDC_CLIENT_ID", "homesafe")
    monkeypatch.setenv("HOMESAFE_OIDC_ROLE_MAP", "dm-team=officer")
    with pytest.raises(ValueError, match="https:// HOMESAFE_OIDC_ISSUER"):
        Settings(_env_file=None)
    monkeypatch.setenv("HOMESAFE_OIDC_ISSUER", "https://login.landlord.example")
    with pytest.raises(ValueError, match="https:// redirect URL"):
        Settings(_env_file=None)
    monkeypatch.setenv("HOMESAFE_OIDC_REDIRECT_URL", "https://homesafe.example/login/oidc/callback")
    assert Settings(_env_file=None).oidc_redirect().startswith("https://")
