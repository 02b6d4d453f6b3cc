"""Central-only DDL that Alembic does not model: roles, grants, row-level security, the
station-id default of the inbox and its NOTIFY trigger. :func:`apply` is idempotent and runs
after the migrations (``waystation-admin central init``; run it again after an upgrade).

Roles (``<prefix>`` is ``waystation`` unless the database says otherwise):
- ``<prefix>_hub``: the hub's login; reads and writes every table.
- ``<prefix>_station``: the group every station's login role is in. It may INSERT into the
  inbox (never the ``station_id`` column: its default takes the station from the session
  user, and a row-level check refuses any other), SELECT its warehouse's feed and orders and
  its own results, and SELECT the reference tables a bootstrap reads. No UPDATE or DELETE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

SETTING = "waystation.role_prefix"
DEFAULT_PREFIX = "waystation"

# Tables a station reads whole when it bootstraps (reference data).
REFERENCE_TABLES = (
    "company",
    "warehouse",
    "sales_channel",
    "location",
    "product",
    "barcode",
    "operator",
    "customer",
    "tote",
    "station",
    "stock_movement",
    "store_credit_entry",
    "return_policy",
)
INBOX_COLUMNS = "op_id, seq, kind, payload, entity, entity_id, created_at"

_SAFE = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


@dataclass(frozen=True, slots=True)
class Roles:
    prefix: str

    @property
    def hub(self) -> str:
        return f"{self.prefix}_hub"

    @property
    def station(self) -> str:
        return f"{self.prefix}_station"

    def station_login(self, name: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "station"
        return f"{self.prefix}_st_{slug}"[:63]


def check_prefix(prefix: str) -> str:
    if not _SAFE.match(prefix):
        raise ValueError(
            f"{prefix!r} cannot prefix role names — use lower-case letters, digits and _ "
            "(at most 41), starting with a letter."
        )
    return prefix


def roles_of(conn: Connection) -> Roles:
    """The role names this database was set up with (``central init --role-prefix``)."""
    value = conn.scalar(text("SELECT current_setting(:s, true)"), {"s": SETTING})
    return Roles(check_prefix(value or DEFAULT_PREFIX))


def _role_exists(conn: Connection, role: str) -> bool:
    return bool(conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}))


_FUNCTIONS = """
CREATE OR REPLACE FUNCTION ws_session_station() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT station_id FROM station_account
  WHERE role_name = session_user AND revoked_at IS NULL
$$;
CREATE OR REPLACE FUNCTION ws_session_warehouse() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT warehouse_id FROM station_account
  WHERE role_name = session_user AND revoked_at IS NULL
$$;
CREATE OR REPLACE FUNCTION ws_inbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('inbox', '');
  RETURN NULL;
END
$$;
ALTER TABLE inbox ALTER COLUMN station_id SET DEFAULT ws_session_station();
DROP TRIGGER IF EXISTS inbox_notify ON inbox;
CREATE TRIGGER inbox_notify AFTER INSERT ON inbox
  FOR EACH STATEMENT EXECUTE FUNCTION ws_inbox_notify();
"""

# table → the station's row filter (USING) for SELECT
_STATION_ROWS = {
    "change_log": "warehouse_id = ws_session_warehouse()",
    "feed_head": "warehouse_id = ws_session_warehouse()",
    "op_result": "station_id = ws_session_station()",
    "sales_order": "warehouse_id = ws_session_warehouse()",
    "order_line": "order_id IN (SELECT id FROM sales_order)",
    "package": "order_id IN (SELECT id FROM sales_order)",
    "packed_unit": "order_id IN (SELECT id FROM sales_order)",
    "package_item": "package_id IN (SELECT id FROM package)",
    "exception_task": "warehouse_id = ws_session_warehouse() OR warehouse_id IS NULL",
    "pick_list": "warehouse_id = ws_session_warehouse()",
    "allocation": "pick_list_id IN (SELECT id FROM pick_list)",
    # Its own sales only: a till loaded again goes on after its last receipt number.
    "counter_sale": "station_id = ws_session_station()",
    "rma": "warehouse_id = ws_session_warehouse()",
    "rma_line": "warehouse_id = ws_session_warehouse()",
    "return_unit": "warehouse_id = ws_session_warehouse()",
    "return_refund": "warehouse_id = ws_session_warehouse()",
}
RLS_TABLES = ("inbox", *_STATION_ROWS)


def apply(conn: Connection, prefix: str = DEFAULT_PREFIX) -> Roles:
    """Create or bring up to date the roles, grants, policies, functions and trigger."""
    roles = Roles(check_prefix(prefix))
    db = conn.scalar(text("SELECT current_database()"))
    conn.execute(text(f"ALTER DATABASE \"{db}\" SET {SETTING} = '{roles.prefix}'"))
    conn.execute(text(f"SET {SETTING} = '{roles.prefix}'"))
    for role, login in ((roles.hub, "LOGIN"), (roles.station, "NOLOGIN")):
        if not _role_exists(conn, role):
            conn.execute(text(f'CREATE ROLE "{role}" {login}'))
    hub, station = f'"{roles.hub}"', f'"{roles.station}"'
    conn.exec_driver_sql(_FUNCTIONS)
    statements = [
        # Nobody creates objects in public but the owner; the stations read, never write.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC',
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{db}" TO {hub}',
        f'GRANT CONNECT ON DATABASE "{db}" TO {station}',
        f"GRANT USAGE ON SCHEMA public TO {hub}, {station}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {hub}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {hub}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {hub}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {station}",
        f"GRANT INSERT ({INBOX_COLUMNS}) ON inbox TO {station}",
        f"GRANT SELECT ON {', '.join((*REFERENCE_TABLES, *_STATION_ROWS))} TO {station}",
        "REVOKE EXECUTE ON FUNCTION ws_inbox_notify() FROM PUBLIC",
    ]
    for table in RLS_TABLES:
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS hub_all ON {table}",
            f"CREATE POLICY hub_all ON {table} TO {hub} USING (true) WITH CHECK (true)",
            f"DROP POLICY IF EXISTS station_rows ON {table}",
        ]
        if table == "inbox":
            statements.append(
                f"CREATE POLICY station_rows ON inbox FOR INSERT TO {station} "
                "WITH CHECK (station_id = ws_session_station())"
            )
        else:
            statements.append(
                f"CREATE POLICY station_rows ON {table} FOR SELECT TO {station} "
                f"USING ({_STATION_ROWS[table]})"
            )
    for sql in statements:
        conn.execute(text(sql))
    return roles
