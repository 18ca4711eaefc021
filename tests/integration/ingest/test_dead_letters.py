"""Dead letters in the case database, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ingest.contract import MAX_PAYLOAD_BYTES, DeadLetterRecord
from ingest.models import DeadLetter
from ingest.repository import add_dead_letters, count_dead_letters, list_dead_letters
from ingest.schemas import DeadLetterOut

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def letter(n: int, *, payload: bytes = b'{"v": 2}', truncated: bool = False) -> DeadLetterRecord:
    return DeadLetterRecord(
        received_at=T0 + timedelta(seconds=n),
        topic=f"homesafe/v1/gw/gw-{n}/telemetry",
        payload=payload,
        payload_truncated=truncated,
        gateway_id=f"gw-{n}",
        reason=f"v is 2, must be 1 ({n})",
        rejected_readings=0,
    )


@pytest.fixture
def session(case_db_url: str) -> Iterator[Session]:
    engine = create_engine(case_db_url)
    DeadLetter.metadata.create_all(engine, tables=[DeadLetter.__table__])  # type: ignore[list-item]
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def test_dead_letters_come_back_newest_first(session: Session) -> None:
    add_dead_letters(session, [letter(1), letter(3), letter(2)])
    add_dead_letters(session, [letter(3)])  # same time: the later insert is newer
    session.commit()
    rows = list_dead_letters(session, limit=10, offset=0)
    assert [r.gateway_id for r in rows] == ["gw-3", "gw-3", "gw-2", "gw-1"]
    assert rows[0].id > rows[1].id
    assert rows[0].received_at == T0 + timedelta(seconds=3)
    assert rows[0].received_at.tzinfo is not None
    assert [r.gateway_id for r in list_dead_letters(session, limit=2, offset=2)] == ["gw-2", "gw-1"]
    assert count_dead_letters(session) == 4


def test_payload_is_kept_byte_for_byte_up_to_64_kib(session: Session) -> None:
    raw = bytes(range(256)) * (MAX_PAYLOAD_BYTES // 256)
    add_dead_letters(
        session, [letter(1, payload=raw), letter(2, payload=raw + b"overflow", truncated=False)]
    )
    session.commit()
    newest, oldest = list_dead_letters(session, limit=10, offset=0)
    assert bytes(oldest.payload) == raw
    assert not oldest.payload_truncated
    assert bytes(newest.payload) == raw  # cut at 64 KiB
    assert newest.payload_truncated


def test_out_model_shows_text_or_base64(session: Session) -> None:
    add_dead_letters(
        session, [letter(1, payload='{"note": "☂"}'.encode()), letter(2, payload=b"\xff\xfe\x00")]
    )
    session.commit()
    binary, text = (DeadLetterOut.from_row(r) for r in list_dead_letters(session, limit=5))
    assert (text.payload, text.payload_encoding) == ('{"note": "☂"}', "utf-8")
    assert binary.payload_encoding == "base64"
    assert base64.b64decode(binary.payload) == b"\xff\xfe\x00"
    assert binary.model_dump(mode="json")["received_at"].startswith("2026-11-24T09:30:02")
