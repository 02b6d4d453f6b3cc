"""A TCP proxy on loopback between a PostgreSQL client and its server, which breaks connections.

It reads the PostgreSQL wire protocol just far enough to see message boundaries in what the
server sends: the answer to an SSLRequest (one byte), then typed messages (1-byte type, 4-byte
length). That is what lets it do the nastiest drop there is: the server has committed and the
connection dies before the client reads the answer, so the client cannot know whether its
transaction happened. A commit is a CommandComplete ``COMMIT`` — or ``INSERT``, ``UPDATE``,
``DELETE``, ``MERGE``, ``COPY`` run outside a transaction block (autocommit) — followed by a
ReadyForQuery whose status is idle (``I``): no transaction open any more.

Faults, all switchable while connections run:

- :meth:`PgProxy.drop_all` cuts every open connection now;
- ``offline``: new connections are refused (accepted and closed at once) — a network outage;
- ``blackhole``: bytes stop flowing both ways but sockets stay open — a silent partition, the
  kind only timeouts notice; lifted, the held bytes flow on;
- :meth:`PgProxy.sever`: every open connection (and each new one while severed) goes silent
  for good — what it carries is thrown away, and it is never closed — as a connection through
  a middlebox that lost its state; :meth:`PgProxy.heal` lets new connections through again;
- ``random_drop``: the chance that a connection is doomed (each open one when it is set, and
  each new one): it is cut after a random number (1 to ``doom_within``) of messages from the
  server and chunks from the client, in the middle of whatever it carries then;
- ``commit_drop``: the chance that a server's answer to a commit is swallowed and the
  connection cut right after the commit.

The proxy runs an asyncio loop on a thread of its own; the test drives it from its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 196608
# Commands whose completion, with no transaction block open afterwards, is a commit.
_WRITES = (b"COMMIT\x00", b"INSERT ", b"UPDATE ", b"DELETE ", b"MERGE ", b"COPY ")


@dataclass(eq=False)
class _Conn:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    # Answers of one byte the server still owes (to SSLRequest / GSSENCRequest).
    single_byte_answers: int = 0
    started: bool = False  # the StartupMessage went through: both sides speak typed messages
    opaque: bool = False  # TLS was agreed: nothing to read any more
    holding: bytearray | None = None  # a commit's answer, held until its ReadyForQuery
    closed: bool = False
    doom: int | None = None  # cut after this many more messages either way
    frozen: bool = False  # severed: bytes are read and thrown away, the sockets stay open
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def doomed(self) -> bool:
        if self.doom is None:
            return False
        self.doom -= 1
        return self.doom <= 0


class PgProxy:
    """``PgProxy(server_port).start()`` returns the port clients connect to instead."""

    def __init__(self, server_port: int, server_host: str = "127.0.0.1", seed: int = 0) -> None:
        self.server_host = server_host
        self.server_port = server_port
        self.port = 0
        self.offline = False
        self.blackhole = False
        self.severed = False
        self._random_drop = 0.0
        self.doom_within = 300
        self.commit_drop = 0.0
        self.max_drops: int | None = None  # stop dropping (of either kind) after this many
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._conns: set[_Conn] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._unblocked = asyncio.Event()

    # ------------------------------------------------------------------ control (test thread)

    def start(self) -> int:
        self._thread.start()
        self.port = self._call(self._listen())
        return self.port

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def drop_all(self) -> int:
        """Cut every open connection; returns how many there were."""
        return self._call(self._drop_all())

    def set_blackhole(self, on: bool) -> None:
        self.blackhole = on
        self._loop.call_soon_threadsafe(self._unblocked.clear if on else self._unblocked.set)

    @property
    def random_drop(self) -> float:
        return self._random_drop

    @random_drop.setter
    def random_drop(self, chance: float) -> None:
        self._random_drop = chance
        if chance > 0 and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._doom_open, chance)

    def _doom_open(self, chance: float) -> None:
        for conn in self._conns:
            if conn.doom is None and self._may_drop(chance):
                conn.doom = self._rng.randint(1, self.doom_within)

    def sever(self) -> None:
        self.severed = True
        self._loop.call_soon_threadsafe(self._freeze_all)

    def heal(self) -> None:
        self.severed = False

    def _freeze_all(self) -> None:
        for conn in self._conns:
            conn.frozen = True
        self.stats["severed"] += len(self._conns)

    def calm(self) -> None:
        """No more faults: every new and open connection works normally."""
        self.offline = False
        self.severed = False
        self.random_drop = 0.0
        self.commit_drop = 0.0
        self.set_blackhole(False)

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def __enter__(self) -> PgProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    # ------------------------------------------------------------------ the loop's side

    async def _listen(self) -> int:
        self._unblocked.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop_all()
        # Connections still being accepted or pumped end here, not with the loop.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _drop_all(self) -> int:
        conns = list(self._conns)
        for conn in conns:
            self._cut(conn, "drop_all")
        return len(conns)

    def _may_drop(self, chance: float) -> bool:
        if chance <= 0 or (self.max_drops is not None and self.stats["drops"] >= self.max_drops):
            return False
        return self._rng.random() < chance

    def _cut(self, conn: _Conn, why: str) -> None:
        if conn.closed:
            return
        conn.closed = True
        self.stats["drops"] += 1
        self.stats[f"drops_{why}"] += 1
        self._conns.discard(conn)
        # abort(): whatever is still buffered is thrown away, as a dead link would.
        conn.server.transport.abort()
        conn.client.transport.abort()
        for task in conn.tasks:
            if task is not asyncio.current_task():
                task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        if self.offline:
            self.stats["refused"] += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.server_host, self.server_port)
        except OSError:
            self.stats["server_unreachable"] += 1
            writer.transport.abort()
            return
        if self.offline:  # it went offline while this one was reaching the server
            self.stats["refused"] += 1
            up_writer.transport.abort()
            writer.transport.abort()
            return
        conn = _Conn(client=writer, server=up_writer, frozen=self.severed)
        if self._may_drop(self._random_drop):
            conn.doom = self._rng.randint(1, self.doom_within)
        self._conns.add(conn)
        conn.tasks = [
            asyncio.create_task(self._client_to_server(conn, reader)),
            asyncio.create_task(self._server_to_client(conn, up_reader)),
        ]
        await asyncio.gather(*conn.tasks, return_exceptions=True)
        if not conn.closed:
            conn.closed = True
            self._conns.discard(conn)
            conn.server.transport.abort()
            conn.client.transport.abort()

    async def _client_to_server(self, conn: _Conn, reader: asyncio.StreamReader) -> None:
        buf = bytearray()
        try:
            while not conn.closed:
                data = await reader.read(65536)
                if not data:
                    if conn.frozen:  # a severed link carries no end-of-stream either
                        await asyncio.Event().wait()
                    break
                await self._unblocked.wait()
                if conn.closed:
                    return
                if conn.frozen:
                    continue
                if not conn.started and not conn.opaque:
                    buf += data
                    data = self._read_startup(conn, buf)
                    if not data:
                        continue
                if conn.doomed():
                    self._cut(conn, "random")
                    return
                conn.server.write(data)
                await conn.server.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._half_close(conn.server)

    def _read_startup(self, conn: _Conn, buf: bytearray) -> bytes:
        """Pass on whole untyped start-up messages; note which get a one-byte answer."""
        out = bytearray()
        while len(buf) >= 8 and not conn.started:
            length = int.from_bytes(buf[0:4], "big")
            if len(buf) < length:
                break
            code = int.from_bytes(buf[4:8], "big")
            out += buf[:length]
            del buf[:length]
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.single_byte_answers += 1
            elif code != CANCEL_REQUEST:
                conn.started = True  # StartupMessage: typed messages from here on
        if conn.started:
            out += buf  # whatever followed the start-up message
            buf.clear()
        return bytes(out)

    async def _server_to_client(self, conn: _Conn, reader: asyncio.StreamReader) -> None:
        buf = bytearray()
        try:
            while not conn.closed:
                data = await reader.read(65536)
                if not data:
                    if conn.frozen:  # a severed link carries no end-of-stream either
                        await asyncio.Event().wait()
                    break
                await self._unblocked.wait()
                if conn.closed:
                    return
                if conn.frozen:
                    continue
                if conn.opaque:
                    out = data
                else:
                    buf += data
                    out, cut = self._server_messages(conn, buf)
                    if cut:
                        # What came before the cut still reaches the client; the rest never.
                        if out:
                            conn.client.write(out)
                        self._cut(conn, cut)
                        return
                if out:
                    conn.client.write(out)
                    await conn.client.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._half_close(conn.client)

    def _server_messages(self, conn: _Conn, buf: bytearray) -> tuple[bytes, str]:
        """Whole messages from ``buf`` to pass on now, and why to cut the connection ("" for
        not at all). A writing command's CommandComplete is held until its ReadyForQuery
        says whether it committed."""
        out = bytearray()
        while buf:
            if conn.single_byte_answers:
                answer = buf[0]
                out.append(answer)
                del buf[:1]
                conn.single_byte_answers -= 1
                if answer == ord("S") or answer == ord("G"):
                    conn.opaque = True  # encrypted from here on
                    out += buf
                    buf.clear()
                continue
            if len(buf) < 5:
                break
            length = int.from_bytes(buf[1:5], "big")
            if len(buf) < 1 + length:
                break
            msg = bytes(buf[: 1 + length])
            del buf[: 1 + length]
            kind = msg[0]
            if conn.holding is not None:
                conn.holding += msg
                if kind == ord("Z"):
                    held, conn.holding = bytes(conn.holding), None
                    if msg[5] == ord("I"):  # nothing open: what completed was committed
                        self.stats["commits"] += 1
                        if self._may_drop(self.commit_drop):
                            self.stats["commit_answers_lost"] += 1
                            return bytes(out), "after_commit"
                    out += held
                continue
            if kind == ord("C") and msg[5:].startswith(_WRITES):
                conn.holding = bytearray(msg)
                continue
            if conn.doomed():
                return bytes(out), "random"
            out += msg
        return bytes(out), ""

    @staticmethod
    def _half_close(writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            if not writer.transport.is_closing() and writer.can_write_eof():
                writer.write_eof()
