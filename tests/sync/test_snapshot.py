"""A new station's first download on a real PostgreSQL, through the station's own login: values
that are awkward in COPY's text format arrive exactly as central holds them, and a download
that stops half-way leaves nothing behind and starts again from nothing."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app.store.models import Warehouse
from app.sync import client, snapshot
from app.sync.checksum import central_view, station_view
from tests.sync.centralkit import Central, central
from tests.sync.stationkit import add_bench

pytestmark = pytest.mark.postgres
__all__ = ["central"]

# Every escape COPY's text format has, what JSON lacks (a vertical tab), raw control
# characters, quotes, and texts that look like a NULL, a number or JSON.
AWKWARD = [
    "tab\there",
    "line\nbreak\r\nwindows",
    "back\\slash\\",
    "\\N",
    "\\\\N",
    "\\v and \x0b and \\\x0b",
    "bell\x07 esc\x1b us\x1f del\x7f",
    "\x08\x0c",
    'say "hi"',
    '"\\N"',
    "",
    "null",
    "12",
    "grüße ☃ 𝄞 日本",
    '{"a": "b\\n"}',
]


def _warehouse(c: Central) -> Any:
    with c.engine.connect() as conn:
        return conn.scalar(select(Warehouse.id).where(Warehouse.code == "WH1"))


def _make_awkward(c: Central) -> list[str]:
    """Give central products awkward names and NULLs; return their ids (hex)."""
    with c.engine.begin() as conn:
        ids = conn.scalars(text("SELECT id FROM product ORDER BY sku LIMIT :n"), {"n": 30}).all()
        for i, pid in enumerate(ids[: len(AWKWARD)]):
            conn.execute(
                text(
                    "UPDATE product SET name = :name, gtin = NULL, tax_rate_bp = NULL, "
                    "track_lot = true WHERE id = :id"
                ),
                {"name": AWKWARD[i], "id": pid},
            )
        conn.execute(
            text(
                "UPDATE customer SET address = CAST(:a AS json) "
                "WHERE id = (SELECT id FROM customer ORDER BY id LIMIT 1)"
            ),
            {"a": '{"street": "a\\tb\\\\c\\n \\"q\\" \\u000b ☃", "zip": null, "n": 5}'},
        )
    return [pid.hex for pid in ids]


def test_awkward_values_arrive_as_central_holds_them(
    central: Central, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "CHUNK", 7)  # many chunks, the writer's queue full at times
    ids = _make_awkward(central)
    b = add_bench(central, "PACK-01", tmp_path)
    mine, theirs = station_view(b.ctx.engine), central_view(central.engine, _warehouse(central))
    assert mine.differences(theirs) == []
    assert mine.digest == theirs.digest
    db = sqlite3.connect(tmp_path / "PACK-01.db")
    try:
        got = dict(
            db.execute(
                f"SELECT id, name FROM product WHERE id IN ({', '.join('?' * len(AWKWARD))})",
                ids[: len(AWKWARD)],
            ).fetchall()
        )
        assert [got[pid] for pid in ids[: len(AWKWARD)]] == AWKWARD
        row = db.execute(
            "SELECT typeof(id), length(id), typeof(gtin), typeof(tax_rate_bp), typeof(track_lot),"
            " track_lot, typeof(weight_g), typeof(price_minor) FROM product WHERE id = ?",
            (ids[0],),
        ).fetchone()
        assert row == ("text", 32, "null", "null", "integer", 1, "integer", "integer")
        assert db.execute(
            "SELECT count(*) FROM product WHERE track_lot NOT IN (0, 1)"
        ).fetchone() == (0,)
        assert db.execute(
            "SELECT count(*) FROM product WHERE typeof(track_serial) != 'integer'"
        ).fetchone() == (0,)
        at = [a for (a,) in db.execute("SELECT at FROM stock_movement LIMIT 50")]
        assert at and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", a) for a in at)
        (address,) = db.execute("SELECT address FROM customer ORDER BY id LIMIT 1").fetchone()
        assert address == '{"street": "a\\tb\\\\c\\n \\"q\\" \\u000b ☃", "zip": null, "n": 5}'
    finally:
        db.close()
    b.close()


def _connect(c: Central) -> Any:
    login = c.stations.get("PACK-01") or c.add_station("PACK-01")
    return client.connect(login.central, login.password)


def _download(conn: Any, path: Path) -> snapshot.Snapshot:
    return snapshot.download(conn, path, station_name="PACK-01", warehouse_code="WH1")


def _writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "snapshot-writer"]


@pytest.mark.parametrize("where", ["reading", "writing"])
def test_a_download_that_fails_half_way_leaves_nothing_and_starts_again(
    central: Central, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setattr(snapshot, "CHUNK", 7)
    rewrite = snapshot._json_rows
    chunks = 0

    def failing(data: bytes) -> str:
        nonlocal chunks
        chunks += 1
        if chunks < 5:
            return rewrite(data)
        if where == "reading":
            raise ConnectionResetError("central went away")
        return "[[not json"  # SQLite refuses it on the writer's thread

    monkeypatch.setattr(snapshot, "_json_rows", failing)
    path = tmp_path / "PACK-01.db"
    with _connect(central) as conn:
        with pytest.raises((ConnectionResetError, sqlite3.OperationalError)):
            _download(conn, path)
        assert not path.exists(), "a half-loaded file is never put in place"
        assert _writers() == [], "the writer's thread ended with the download"
        assert conn.execute("SELECT 1").fetchone() == (1,), "the copy was ended on its connection"
        monkeypatch.setattr(snapshot, "_json_rows", rewrite)
        snap = _download(conn, path)
    assert snap.rows["product"] == 120
    assert not Path(f"{path}.loading").exists()
    b = add_bench(central, "PACK-01", tmp_path)  # opens the file the download made
    theirs = central_view(central.engine, _warehouse(central))
    assert station_view(b.ctx.engine).differences(theirs) == []
    b.close()


@pytest.mark.parametrize(
    ("where", "error"),
    [("1 / (SELECT 0) = 1", "DivisionByZero"), ("no_such_column = 1", "UndefinedColumn")],
)
def test_an_error_of_central_in_a_copy_is_raised_as_central_gave_it(
    central: Central, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, error: str
) -> None:
    import psycopg

    monkeypatch.setitem(snapshot.ROWS, "tote", where)  # once the copy runs / before it does
    path = tmp_path / "PACK-01.db"
    with _connect(central) as conn:
        with pytest.raises(psycopg.Error) as e:
            _download(conn, path)
        assert type(e.value).__name__ == error
        assert not path.exists()
        assert _writers() == []
        assert conn.execute("SELECT 1").fetchone() == (1,)
