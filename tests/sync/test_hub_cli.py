"""waystation-admin against a real PostgreSQL, as separate processes without Qt: central init,
station add (settings as TOML, the password in the keyring and nowhere else), station list and
revoke, and the hub run by its own login role. Every bad input gets words to act on."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.clock import utcnow
from app.config import parse_config
from app.ids import new_id
from tests.integration.test_admin_cli import NO_QT

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(postgres_url: str) -> Iterator[str]:
    """An empty database, and no roles of its name left behind."""
    yield postgres_url
    name = make_url(postgres_url).database
    eng = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for role in conn.scalars(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY oid DESC"),
            {"p": f"{name}\\_%"},
        ).all():
            conn.execute(text(f'DROP ROLE "{role}"'))
    eng.dispose()


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "WAYSTATION_CENTRAL_URL": "",
    }


def admin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_QT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=_env(home),
    )


def _keyring_password(home: Path, user: str) -> str | None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import keyring; print(keyring.get_password('waystation', {user!r}))",
        ],
        capture_output=True,
        text=True,
        env=_env(home),
        check=True,
    ).stdout.strip()
    return None if out == "None" else out


def test_set_up_a_central_database_a_station_and_a_hub(db: str, tmp_path: Path) -> None:
    prefix = make_url(db).database
    assert prefix
    demo = admin(tmp_path, "demo-data", "--products", "40", "--orders", "5", "--url", db)
    assert demo.returncode == 0, demo.stderr

    init = admin(tmp_path, "central", "init", "--database-url", db, "--role-prefix", prefix)
    assert init.returncode == 0, init.stderr
    assert f"roles {prefix}_hub (hub) and {prefix}_station (stations) set up" in init.stdout
    hub_password = init.stdout.split("has the password ")[1].split(" ")[0]
    again = admin(tmp_path, "central", "init", "--database-url", db, "--role-prefix", prefix)
    assert again.returncode == 0, again.stderr
    assert "has the password" not in again.stdout, "an existing hub login keeps its password"

    add = admin(
        tmp_path,
        "station",
        "add",
        "PACK-07",
        "--warehouse",
        "WH1",
        "--database-url",
        db,
        "--host",
        "db.example.com",
        "--sslmode",
        "verify-full",
        "--sslrootcert",
        "/etc/ws/ca.pem",
        "--store-password",
    )
    assert add.returncode == 0, add.stderr
    settings = tomllib.loads(add.stdout)
    assert settings["station"] == {"station_name": "PACK-07", "warehouse_code": "WH1"}
    central = parse_config(settings).central
    assert central is not None
    assert (central.host, central.user, central.sslmode, central.sslrootcert) == (
        "db.example.com",
        f"{prefix}_st_pack_07",
        "verify-full",
        "/etc/ws/ca.pem",
    )
    password = _keyring_password(tmp_path, central.keyring_user())
    assert password and len(password) >= 24
    assert password not in add.stdout and password not in add.stderr
    assert "password kept in the OS keyring" in add.stderr

    shown = admin(tmp_path, "station", "add", "PACK-08", "--warehouse", "WH1", "--database-url", db)
    assert shown.returncode == 0, shown.stderr
    once = shown.stderr.split("--store-password there): ")[1].strip()
    assert once not in shown.stdout, "the password is never in the settings"

    # The station pushes one operation with its own login; the hub, with its own, applies it.
    url = make_url(db)
    with psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=central.user, password=password
    ) as conn:
        conn.execute(
            "INSERT INTO inbox (op_id, seq, kind, payload, entity, created_at) "
            "VALUES (%s, 1, 'print.reprinted', %s, 'print_job', %s)",
            (new_id(), Jsonb({}), utcnow()),
        )
    hub_url = url.set(username=f"{prefix}_hub", password=hub_password)
    hub = admin(
        tmp_path, "hub", "--once", "--database-url", hub_url.render_as_string(hide_password=False)
    )
    assert hub.returncode == 0, hub.stderr
    assert "operations 1–1 applied (0 rejected)" in hub.stderr
    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT result FROM op_result").fetchall() == [("applied",)]

    listed = admin(tmp_path, "station", "list", "--database-url", db)
    assert "PACK-07" in listed.stdout and "active" in listed.stdout
    revoke = admin(tmp_path, "station", "revoke", "PACK-07", "--database-url", db)
    assert revoke.returncode == 0, revoke.stderr
    assert f"login {prefix}_st_pack_07 revoked" in revoke.stdout
    listed = admin(tmp_path, "station", "list", "--database-url", db)
    assert any("PACK-07" in line and "revoked" in line for line in listed.stdout.splitlines())


def test_bad_input_gets_words_to_act_on(db: str, tmp_path: Path) -> None:
    no_url = admin(tmp_path, "hub", "--once")
    assert no_url.returncode == 1
    assert "Which central database? Give --database-url" in no_url.stderr

    sqlite = admin(tmp_path, "central", "init", "--database-url", f"sqlite:///{tmp_path}/x.db")
    assert sqlite.returncode == 1
    assert "The central database must be PostgreSQL, not sqlite" in sqlite.stderr

    prefix = make_url(db).database or ""
    bad_prefix = admin(
        tmp_path, "central", "init", "--database-url", db, "--role-prefix", "Bad-Name"
    )
    assert bad_prefix.returncode == 1
    assert "cannot prefix role names" in bad_prefix.stderr
    assert (
        admin(tmp_path, "central", "init", "--database-url", db, "--role-prefix", prefix).returncode
        == 0
    )

    unknown = admin(tmp_path, "station", "add", "P1", "--warehouse", "WH9", "--database-url", db)
    assert unknown.returncode == 1
    assert "There is no warehouse WH9 in the central database" in unknown.stderr
    no_wh = admin(tmp_path, "station", "add", "P1", "--database-url", db)
    assert no_wh.returncode == 1
    assert "Say which warehouse the station is in: --warehouse CODE." in no_wh.stderr
    no_name = admin(tmp_path, "station", "revoke", "--database-url", db)
    assert no_name.returncode == 2
    assert "station revoke needs the station's name" in no_name.stderr

    config = tmp_path / "hub.toml"
    config.write_text("[station]\nstation_name = 'X'\n", encoding="utf-8")
    no_central = admin(tmp_path, "hub", "--once", "--config", str(config))
    assert no_central.returncode == 1
    assert "has no [central] section" in no_central.stderr
