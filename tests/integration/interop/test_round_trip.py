"""The round trip: export → import into an empty Homesafe → export gives the same documents, on
SQLite and PostgreSQL, for the fleet with every kind of case, step and work order. The import
replays each case through compliance's service functions (tests/interop_fleet.py built it the
same way), so an identical second export shows the rules rebuilt the same record."""

from __future__ import annotations

import copy
import json

import pytest

from interop import data_model, service
from interop.importer import ImportRefused, import_documents
from tests.integration.interop.conftest import open_store
from tests.interop_fleet import NOW, START, _registry

pytestmark = pytest.mark.integration


def _export(store, component):
    with store.sessions() as session:
        return service.export_damp_and_mould(
            session,
            component=component,
            start=START,
            end=NOW,
            now=NOW,
            engine=store.engine,
            personal=True,
        )


def _empty(make_url):
    store, db = open_store(make_url)
    with store.sessions.begin() as session:
        _registry(session)
    return store, db


@pytest.fixture
def second_url(request, tmp_path):
    if "postgresql" in request.node.name:
        return request.getfixturevalue("make_postgres_url")()
    return f"sqlite:///{tmp_path / 'second.db'}"


def test_export_import_export_gives_the_same_documents(store, second_url):
    first = {c: _export(store, c) for c in ("investigation", "work_order")}
    # through JSON text, as a file would carry them
    documents = [json.loads(json.dumps(first[c])) for c in ("work_order", "investigation")]
    second, db = _empty(second_url)
    try:
        with second.sessions.begin() as session:
            summary = import_documents(session, documents=documents, engine=second.engine, now=NOW)
        assert (summary.cases, summary.work_orders) == (15, 7)
        again = {c: _export(second, c) for c in ("investigation", "work_order")}
        for component in ("investigation", "work_order"):
            assert data_model.errors(component, again[component]) == []
            assert again[component] == first[component], component
    finally:
        db.dispose()


def test_the_import_refuses_a_non_empty_store_a_bad_document_and_writes_nothing(store, second_url):
    investigation = _export(store, "investigation")
    with store.sessions.begin() as session, pytest.raises(ImportRefused) as refused:
        import_documents(session, documents=[investigation], engine=store.engine, now=NOW)
    assert "the store already has cases" in str(refused.value.errors)
    second, db = _empty(second_url)
    try:
        broken = copy.deepcopy(investigation)
        del broken["hazard_report"][0]["uprn"]
        foreign = copy.deepcopy(investigation)
        del foreign["hazard_report"][1]["homesafe_case"]
        with second.sessions.begin() as session, pytest.raises(ImportRefused) as refused:
            import_documents(session, documents=[broken], engine=second.engine, now=NOW)
        assert refused.value.errors == [
            "investigation: hazard_report/0: 'uprn' is a required property"
        ]
        with second.sessions.begin() as session, pytest.raises(ImportRefused) as refused:
            import_documents(session, documents=[foreign], engine=second.engine, now=NOW)
        assert "no homesafe_case" in refused.value.errors[0]
        with second.sessions() as session:
            from interop import repository

            assert repository.store_is_empty(session)
    finally:
        db.dispose()
