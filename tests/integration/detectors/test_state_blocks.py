"""Sensor states stored a block of sensors a row, on SQLite and PostgreSQL (`detectors.repository`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from detectors import repository
from detectors.fleet import layout_fields, layout_id, state_layout
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import alembic_config, upgrade

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(case_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(case_db_url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four sensors a block, so a few sensors span several blocks."""
    monkeypatch.setattr(repository, "BLOCK_SENSORS", 4)


def _keys(n: int, start: int = 0) -> list[tuple[str, str]]:
    return [(f"gw-{i // 2:04d}", f"s{i % 2 + 1}") for i in range(start, start + n)]


def _states(n: int, seed: int) -> npt.NDArray[np.void]:
    out = np.zeros(n, dtype=state_layout())
    out.view(np.uint8)[:] = np.random.default_rng(seed).integers(0, 256, out.nbytes, np.uint8)
    out["through_s"] = 1_768_478_400 + np.arange(n) * 3600
    return out


def _load(sessions: sessionmaker[Session]) -> repository.StoredState:
    with sessions() as session:
        return repository.load_state(session)


def _save(
    sessions: sessionmaker[Session],
    stored: repository.StoredState,
    keys: list[tuple[str, str]],
    records: npt.NDArray[np.void],
    changed: list[int],
) -> int:
    with sessions.begin() as session:
        return repository.save_state(
            session, stored, keys, records, np.array(changed, dtype=np.int64)
        )


def test_states_reload_equal_in_blocks(sessions):
    keys, records = _keys(10), _states(10, 1)
    assert _save(sessions, _load(sessions), keys, records, list(range(10))) == 10
    stored = _load(sessions)
    assert stored.keys == keys
    assert stored.records.tobytes() == records.tobytes()
    assert stored.block_ids.tolist() == [0, 1, 2]
    assert stored.block_starts.tolist() == [0, 4, 8, 10]


def test_a_partial_save_rewrites_only_its_blocks_and_keeps_the_others(sessions):
    keys, records = _keys(12), _states(12, 2)
    _save(sessions, _load(sessions), keys, records, list(range(12)))
    stored = _load(sessions)
    after = records.copy()
    after["through_s"][[1, 9]] += 3600
    after["through_s"][5] += 3600  # changed here but not passed as changed: its block stays
    assert _save(sessions, stored, keys, after, [1, 9]) == 2
    reloaded = _load(sessions)
    assert reloaded.keys == keys
    expected = records.copy()
    expected[0:4], expected[8:12] = after[0:4], after[8:12]
    assert reloaded.records.tobytes() == expected.tobytes()
    assert _save(sessions, reloaded, keys, after, []) == 0


def test_new_sensors_fill_the_last_block_then_new_ones(sessions):
    keys, records = _keys(6), _states(6, 3)
    _save(sessions, _load(sessions), keys, records, list(range(6)))
    stored = _load(sessions)
    more_keys, more = keys + _keys(5, start=6), np.concatenate([records, _states(5, 4)])
    assert _save(sessions, stored, more_keys, more, [6, 7, 8, 9, 10]) == 5
    reloaded = _load(sessions)
    assert reloaded.keys == more_keys
    assert reloaded.records.tobytes() == more.tobytes()
    assert reloaded.block_ids.tolist() == [0, 1, 2]  # block 1 filled up to four
    assert reloaded.block_starts.tolist() == [0, 4, 8, 11]


def test_keys_must_start_with_the_loaded_sensors_and_hold_no_line_break(sessions):
    keys, records = _keys(6), _states(6, 5)
    _save(sessions, _load(sessions), keys, records, list(range(6)))
    stored = _load(sessions)
    with pytest.raises(ValueError, match="loaded sensors"):
        _save(sessions, stored, keys[1:], records[1:], [0])
    with pytest.raises(ValueError, match="line break"):
        _save(sessions, stored, [*keys, ("gw\n1", "s1")], _states(7, 6), [6])
    assert _load(sessions).records.tobytes() == records.tobytes()


def test_a_rolled_back_pass_leaves_the_previous_states(sessions):
    keys, records = _keys(8), _states(8, 7)
    _save(sessions, _load(sessions), keys, records, list(range(8)))
    stored = _load(sessions)
    more_keys, after = keys + _keys(3, start=8), _states(11, 8)

    def failing_pass() -> None:
        with sessions.begin() as session:
            repository.save_state(session, stored, more_keys, after, np.arange(11))
            raise RuntimeError("the pass failed after writing its states")

    with pytest.raises(RuntimeError):
        failing_pass()
    reloaded = _load(sessions)
    assert reloaded.keys == keys
    assert reloaded.records.tobytes() == records.tobytes()


def _older_layout() -> np.dtype[np.void]:
    """The current layout without `wme_ring`, with a field since retired."""
    current = state_layout()
    kept = [(name, current.fields[name][0]) for name in current.names if name != "wme_ring"]
    return np.dtype([*kept, ("retired_c", "<f4")])


def _older_records(n: int, seed: int) -> npt.NDArray[np.void]:
    older = np.zeros(n, dtype=_older_layout())
    current = _states(n, seed)
    for name in older.dtype.names:
        older[name] = current[name] if name in current.dtype.names else 1.0
    return older


def test_blocks_of_an_older_layout_load_by_field_name(sessions):
    keys, older = _keys(8), _older_records(8, 10)
    _save(sessions, _load(sessions), keys, older, list(range(8)))
    stored = _load(sessions)
    assert stored.records.dtype == state_layout()
    assert np.isnan(stored.records["wme_ring"]).all()
    np.testing.assert_array_equal(stored.records["humidity_ring"], older["humidity_ring"])
    after = stored.records.copy()
    after["through_s"][0] += 3600
    _save(sessions, stored, keys, after, [0])  # block 0 now in the current layout, block 1 not
    with sessions() as session:
        layouts = session.execute(text("SELECT layout FROM detector_state_block ORDER BY block"))
        assert [row[0] for row in layouts] == [layout_id(state_layout()), layout_id(older.dtype)]
    assert _load(sessions).records.tobytes() == after.tobytes()


def test_the_migration_moves_per_sensor_rows_into_blocks_and_back(case_db_url):
    engine = make_engine(case_db_url)
    config = alembic_config(case_db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003_detectors_state")
    current, older = _states(5, 11), _older_records(3, 12)
    singles = [current[i : i + 1] for i in range(5)] + [older[i : i + 1] for i in range(3)]
    rows = [
        (layout_id(r.dtype), gateway_id, sensor_id, int(r["through_s"][0]), r.tobytes())
        for (gateway_id, sensor_id), r in zip(_keys(8), singles, strict=True)
    ]
    with engine.begin() as connection:
        for layout in (state_layout(), older.dtype):
            connection.execute(
                text("INSERT INTO detector_state_layout (layout, fields) VALUES (:l, :f)"),
                {"l": layout_id(layout), "f": json.dumps(layout_fields(layout))},
            )
        connection.execute(
            text(
                "INSERT INTO detector_sensor_state (layout, gateway_id, sensor_id, through_s, state)"
                " VALUES (:l, :g, :s, :t, :b)"
            ),
            [dict(zip(("l", "g", "s", "t", "b"), row, strict=True)) for row in rows],
        )
    upgrade(engine)
    stored = _load(make_sessionmaker(engine))
    by_key = dict(zip(stored.keys, stored.records, strict=True))
    assert sorted(by_key) == sorted(_keys(8))
    for key, record in zip(_keys(5), current, strict=True):
        assert by_key[key].tobytes() == record.tobytes()
    for key, record in zip(_keys(3, start=5), older, strict=True):
        assert np.isnan(by_key[key]["wme_ring"]).all()
        assert int(by_key[key]["through_s"]) == int(record["through_s"])
        np.testing.assert_array_equal(by_key[key]["humidity_ring"], record["humidity_ring"])
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003_detectors_state")
    with engine.connect() as connection:
        back = connection.execute(
            text(
                "SELECT layout, gateway_id, sensor_id, through_s, state FROM detector_sensor_state"
            )
        ).all()
    engine.dispose()
    assert sorted((*row[:4], bytes(row[4])) for row in back) == sorted(rows)


def test_a_second_pass_waits_for_the_first_and_loads_what_it_wrote(make_postgres_url):
    """Two passes at once (the service and `homesafe detect`): on PostgreSQL the second waits at
    its load until the first commits, so it never writes its blocks from stale states. (SQLite,
    the embedded default, runs its passes in one process: no lock there.)"""
    engine = make_engine(make_postgres_url())
    upgrade(engine)
    try:
        _two_passes(make_sessionmaker(engine))
    finally:
        engine.dispose()


def _two_passes(sessions: sessionmaker[Session]) -> None:
    keys, records = _keys(6), _states(6, 9)
    _save(sessions, _load(sessions), keys, records, list(range(6)))
    loaded = threading.Event()
    second: list[repository.StoredState] = []
    with sessions.begin() as first:
        stored = repository.load_state(first)

        def later_pass() -> None:
            with sessions.begin() as session:
                loaded.set()
                second.append(repository.load_state(session))

        thread = threading.Thread(target=later_pass)
        thread.start()
        assert loaded.wait(5)
        thread.join(1.0)
        assert thread.is_alive(), "the second pass loaded while the first was under way"
        after = records.copy()
        after["through_s"] += 3600
        repository.save_state(first, stored, keys, after, np.arange(6, dtype=np.int64))
    thread.join(10)
    assert second[0].records.tobytes() == after.tobytes()
