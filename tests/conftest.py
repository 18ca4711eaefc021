"""Shared fixtures: real Mosquitto, InfluxDB and PostgreSQL on free ports, and both case databases."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.servers import (
    Influx,
    Mosquitto,
    ServerUnavailable,
    create_postgres_database,
    drop_postgres_database,
    start_influxd,
    start_mosquitto,
)


def _fail(exc: ServerUnavailable) -> NoReturn:
    """Fail the test (never skip) with the server's own explanation."""
    pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """An anonymous Mosquitto 2 broker for the whole session, on a free port."""
    try:
        broker = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    except ServerUnavailable as exc:
        _fail(exc)
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx]:
    """An influxd with database `telemetry` for the whole session, on free ports."""
    try:
        server = start_influxd(tmp_path_factory.mktemp("influxd"))
    except ServerUnavailable as exc:
        _fail(exc)
    yield server
    server.stop()


@pytest.fixture
def influx_url(influxdb: Influx) -> Iterator[str]:
    """A fresh, empty database on the session influxd: influxdb://127.0.0.1:PORT/telemetry_<hex>."""
    url = influxdb.create_database()
    yield url
    influxdb.drop_database(url)


@pytest.fixture
def make_mosquitto(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Factory: make_mosquitto(password_file=, acl_file=, persistence=) -> a broker of this test's own."""
    brokers: list[Mosquitto] = []
    counter = itertools.count()

    def make(**kwargs: Any) -> Mosquitto:
        try:
            broker = start_mosquitto(tmp_path / f"mosquitto-{next(counter)}", **kwargs)
        except ServerUnavailable as exc:
            _fail(exc)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def make_influxd(tmp_path: Path) -> Iterator[Callable[[], Influx]]:
    """Factory: make_influxd() -> an influxd of this test's own (restartable, data kept)."""
    servers: list[Influx] = []
    counter = itertools.count()

    def make() -> Influx:
        try:
            server = start_influxd(tmp_path / f"influxd-{next(counter)}")
        except ServerUnavailable as exc:
            _fail(exc)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for the session: postgresql+psycopg://…/homesafe_test_<hex>."""
    try:
        name, url = create_postgres_database()
    except ServerUnavailable as exc:
        _fail(exc)
    yield url
    drop_postgres_database(name)


@pytest.fixture
def make_postgres_url() -> Iterator[Callable[[], str]]:
    """Factory: make_postgres_url() -> URL of a new empty database, dropped after the test."""
    names: list[str] = []

    def make() -> str:
        try:
            name, url = create_postgres_database()
        except ServerUnavailable as exc:
            _fail(exc)
        names.append(name)
        return url

    yield make
    for name in names:
        drop_postgres_database(name)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def case_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty case database URL: the same test runs once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    make: Callable[[], str] = request.getfixturevalue("make_postgres_url")
    return make()
