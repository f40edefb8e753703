"""Discord's gateway (v10, JSON encoding) over an aiohttp websocket.

What the bot relies on, implemented as Discord documents it:
HELLO -> IDENTIFY -> READY (+ one GUILD_CREATE per guild) with sequence numbers;
HEARTBEAT -> HEARTBEAT_ACK; RESUME replays every event the session missed and
ends with RESUMED; RECONNECT (7) and INVALID_SESSION (9) can be sent on demand.
Events are filtered by the session's intents and routed by shard.

Each connection has one writer task fed by a queue, so `dispatch` is synchronous
(callable from anywhere in the fake) and frames keep their sequence order.
Transport compression (`compress=zlib-stream`, or `zstd-stream` when zstandard is
importable) is honoured as requested in the connect URL, and what was asked is
recorded; discord.py only inflates binary frames, so an uncompressed connection
gets text frames.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .state import DiscordState

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MODERATION = 1 << 2
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1

# Event -> intent required (events not listed are always sent).
EVENT_INTENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "GUILD_CREATE",
            "GUILD_UPDATE",
            "GUILD_DELETE",
            "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE",
            "GUILD_ROLE_DELETE",
            "CHANNEL_CREATE",
            "CHANNEL_UPDATE",
            "CHANNEL_DELETE",
            "CHANNEL_PINS_UPDATE",
        ],
        GUILDS,
    ),
    **dict.fromkeys(["GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"], GUILD_MEMBERS),
    **dict.fromkeys(["GUILD_BAN_ADD", "GUILD_BAN_REMOVE"], GUILD_MODERATION),
}
MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"}
REACTION_EVENTS = {"MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"}

CLOSE_UNKNOWN_OPCODE, CLOSE_DECODE_ERROR, CLOSE_NOT_AUTHENTICATED = 4001, 4002, 4003
CLOSE_AUTH_FAILED, CLOSE_ALREADY_AUTHENTICATED, CLOSE_INVALID_SHARD = 4004, 4005, 4010
CLOSE_INVALID_VERSION, CLOSE_INVALID_INTENTS, CLOSE_DISALLOWED_INTENTS = 4012, 4013, 4014

try:  # zstd-stream is only offered by discord.py when it can inflate it
    import zstandard as _zstd
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None


@dataclass(eq=False)
class Session:
    """A gateway session: survives reconnects (RESUME) until invalidated."""

    id: str
    intents: int
    shard: tuple[int, int] | None
    identify: dict[str, Any]
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))
    conn: Connection | None = None
    invalidated: bool = False
    ready_flushed: bool = False

    def covers(self, guild_id: int | None) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (((guild_id or 0) >> 22) % count) == shard_id


class Connection:
    """One websocket; frames go out in order through `queue` and a writer task."""

    def __init__(self, ws: web.WebSocketResponse, path: str, query: dict[str, str]) -> None:
        self.ws = ws
        self.path = path
        self.query = query
        self.compress = query.get("compress")
        self.session: Session | None = None
        self.opened = time.monotonic()
        self.sent = 0
        self.client_close_code: int | None = None
        self.queue: asyncio.Queue[dict[str, Any] | Callable[[], Any] | tuple[int, str]] = asyncio.Queue()
        self._zlib = zlib.compressobj() if self.compress == "zlib-stream" else None
        self._zstd = _zstd.ZstdCompressor().compressobj() if self.compress == "zstd-stream" and _zstd else None
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, payload: dict[str, Any]) -> None:
        self.queue.put_nowait(payload)

    def after_flush(self, fn: Callable[[], Any]) -> None:
        """Run `fn` once everything queued so far has been written."""
        self.queue.put_nowait(fn)

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (as Discord sends then closes)."""
        self.queue.put_nowait((code, reason))

    async def _write_loop(self) -> None:
        while True:
            item = await self.queue.get()
            if callable(item):
                item()
                continue
            if isinstance(item, tuple):
                await self.ws.close(code=item[0], message=item[1].encode())
                return
            if self.ws.closed:
                continue
            raw = json.dumps(item)
            try:
                if self._zlib is not None:
                    await self.ws.send_bytes(self._zlib.compress(raw.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
                elif self._zstd is not None:
                    frame = self._zstd.compress(raw.encode()) + self._zstd.flush(_zstd.COMPRESSOBJ_FLUSH_BLOCK)
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(raw)
                self.sent += 1
            except (ConnectionError, RuntimeError):
                return


@dataclass
class GatewayStats:
    """Counters a test asserts on ("the bot resumed, it did not re-identify")."""

    connections: int = 0
    identifies: int = 0
    resumes: int = 0
    replayed: int = 0  # events re-sent on RESUME because the bot had missed them
    failed_resumes: int = 0
    heartbeats: int = 0
    reconnects_sent: int = 0
    invalid_sessions_sent: int = 0
    member_requests: int = 0
    compress_requested: list[str | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    intents: list[int] = field(default_factory=list)
    client_close_codes: list[int | None] = field(default_factory=list)
    server_close_codes: list[int] = field(default_factory=list)
    presences: list[dict[str, Any]] = field(default_factory=list)


class Gateway:
    PATH = "/gateway-ws"
    RESUME_PATH = "/gateway-ws/resume"

    def __init__(
        self,
        state: DiscordState,
        token: str,
        heartbeat_interval_ms: int = 41250,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        compression: bool = True,
    ) -> None:
        self.state = state
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allowed_privileged_intents = allowed_privileged_intents
        self.compression = compression
        self.base_url = ""  # ws://host:port, set when the server starts
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.stats = GatewayStats()
        self.crashes: list[str] = []
        state.sink = self.dispatch

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(self.PATH, self.handle)
        router.add_get(self.RESUME_PATH, self.handle)

    @property
    def url(self) -> str:
        return self.base_url + self.PATH

    # ----- sessions ------------------------------------------------------------
    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.invalidated]

    @property
    def active_session(self) -> Session | None:
        """The newest live session that currently has a connection."""
        live = [s for s in self.live_sessions if s.conn is not None]
        return live[-1] if live else None

    def _push(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(payload)
        if session.conn is not None:
            session.conn.send(payload)

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every live session that should get it (intents, shard)."""
        raw_guild = data.get("__guild__") or data.get("guild_id")
        guild_id = int(raw_guild) if raw_guild else None
        for session in self.live_sessions:
            if not session.covers(guild_id):
                continue
            out = self._filter(session, event, data, guild_id)
            if out is not None:
                self._push(session, event, out)

    def _filter(
        self, session: Session, event: str, data: dict[str, Any], guild_id: int | None
    ) -> dict[str, Any] | None:
        intents = session.intents
        if event == "GUILD_CREATE":
            return self._guild_create(session, guild_id) if intents & GUILDS else None
        if event in MESSAGE_EVENTS:
            if not intents & (GUILD_MESSAGES if guild_id else DIRECT_MESSAGES):
                return None
            if event != "MESSAGE_DELETE" and guild_id and not intents & MESSAGE_CONTENT:
                author = (data.get("author") or {}).get("id")
                mentioned = any(u["id"] == str(self.state.bot.id) for u in data.get("mentions", []))
                if author != str(self.state.bot.id) and not mentioned:
                    data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
                    data.pop("poll", None)
            return data
        if event in REACTION_EVENTS:
            return data if intents & GUILD_MESSAGE_REACTIONS else None
        needed = EVENT_INTENTS.get(event, 0)
        return data if intents & needed == needed else None

    def _guild_create(self, session: Session, guild_id: int | None) -> dict[str, Any]:
        guild = self.state.guilds[guild_id or 0]
        data = copy.deepcopy(guild.to_gateway_json())
        if not session.intents & GUILD_PRESENCES:
            # Without presences Discord only lists the bot itself (and voice users).
            data["members"] = [m for m in data["members"] if m["user"]["id"] == str(self.state.bot.id)]
        return data

    # ----- server-initiated -------------------------------------------------------
    def _require_active(self) -> Session:
        session = self.active_session
        if session is None:
            raise AssertionError("the bot has no open gateway connection")
        return session

    def send_reconnect(self) -> None:
        """Op 7: the bot must reconnect and RESUME."""
        session = self._require_active()
        assert session.conn is not None
        self.stats.reconnects_sent += 1
        session.conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    def send_invalid_session(self, resumable: bool = False) -> None:
        """Op 9: resumable=False forces a fresh IDENTIFY."""
        session = self._require_active()
        assert session.conn is not None
        self.stats.invalid_sessions_sent += 1
        if not resumable:
            session.invalidated = True
        session.conn.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})

    def drop_connection(self, code: int = 4000) -> None:
        """Close the socket server-side, as a Discord node restart would."""
        session = self._require_active()
        assert session.conn is not None
        self.stats.server_close_codes.append(code)
        session.conn.close(code, "fake: dropped")

    # ----- the websocket ----------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        if not self.compression:
            query.pop("compress", None)
        conn = Connection(ws, request.path, query)
        self.connections.append(conn)
        self.stats.connections += 1
        self.stats.paths.append(request.path)
        self.stats.compress_requested.append(request.query.get("compress"))
        if query.get("v") != "10":
            self._close(conn, CLOSE_INVALID_VERSION, "Invalid API version")
        elif query.get("encoding", "json") != "json":
            self._close(conn, CLOSE_DECODE_ERROR, "Only JSON encoding is supported by the fake")
        else:
            conn.send(
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ['["fake-gateway"]']},
                    "s": None,
                    "t": None,
                }
            )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        self._close(conn, CLOSE_DECODE_ERROR, "Decode error")
                        continue
                    try:
                        self._on_payload(conn, payload)
                    except Exception:  # a bug in the fake: record it, as Discord would drop us
                        self.crashes.append(f"gateway op {payload.get('op')}\n{traceback.format_exc()}")
                        self._close(conn, 4000, "Unknown error")
                elif msg.type == WSMsgType.BINARY:
                    self._close(conn, CLOSE_DECODE_ERROR, "Decode error")
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            conn.client_close_code = ws.close_code
            self.stats.client_close_codes.append(ws.close_code)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
            conn.queue.put_nowait((1000, ""))
            await asyncio.gather(conn.writer, return_exceptions=True)
        return ws

    def _close(self, conn: Connection, code: int, reason: str) -> None:
        self.stats.server_close_codes.append(code)
        conn.close(code, reason)

    def _on_payload(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self.stats.heartbeats += 1
            conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            self._identify(conn, d or {})
        elif op == RESUME:
            self._resume(conn, d or {})
        elif conn.session is None:
            self._close(conn, CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
        elif op == PRESENCE_UPDATE:
            self.stats.presences.append(d or {})
        elif op == VOICE_STATE_UPDATE:
            pass
        elif op == REQUEST_GUILD_MEMBERS:
            self._request_members(conn.session, d or {})
        else:
            self._close(conn, CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")

    def _identify(self, conn: Connection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            return self._close(conn, CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
        if d.get("token") != self.token:
            return self._close(conn, CLOSE_AUTH_FAILED, "Authentication failed.")
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~ALL_INTENTS:
            return self._close(conn, CLOSE_INVALID_INTENTS, "Invalid intent(s).")
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            return self._close(conn, CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).")
        shard = d.get("shard")
        if shard is not None and (len(shard) != 2 or not 0 <= shard[0] < shard[1]):
            return self._close(conn, CLOSE_INVALID_SHARD, "Invalid shard.")
        self.stats.identifies += 1
        self.stats.intents.append(intents)
        for old in self.live_sessions:  # a fresh IDENTIFY supersedes disconnected sessions
            if old.conn is None and old.shard == (tuple(shard) if shard else None):  # same shard slot
                old.invalidated = True
        shard_pair = (int(shard[0]), int(shard[1])) if shard else None
        session = Session(secrets.token_hex(16), intents, shard_pair, d)
        self.sessions[session.id] = session
        session.conn, conn.session = conn, session
        bot = self.state.bot
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**bot.to_private_json(), "email": None},
            "guilds": [{"id": str(g), "unavailable": True} for g in self.state.guilds if session.covers(g)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.base_url + self.RESUME_PATH,
            "application": {"id": str(self.state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "user_settings": {},
            "_trace": ['["fake-gateway"]'],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        self._push(session, "READY", ready)
        if intents & GUILDS:
            for gid in self.state.guilds:
                if session.covers(gid):
                    self._push(session, "GUILD_CREATE", self._guild_create(session, gid))
        conn.after_flush(lambda: setattr(session, "ready_flushed", True))

    def _resume(self, conn: Connection, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            return self._close(conn, CLOSE_AUTH_FAILED, "Authentication failed.")
        session = self.sessions.get(str(d.get("session_id")))
        seq = d.get("seq") or 0
        oldest = session.buffer[0]["s"] if session and session.buffer else 1
        if session is None or session.invalidated or seq + 1 < oldest:
            self.stats.failed_resumes += 1
            self.stats.invalid_sessions_sent += 1
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            session.conn.close(4000, "Session resumed elsewhere")
        self.stats.resumes += 1
        session.conn, conn.session = conn, session
        for payload in session.buffer:
            if payload["s"] > seq:
                self.stats.replayed += 1
                conn.send(payload)
        self._push(session, "RESUMED", {"_trace": ['["fake-gateway"]']})

    def _request_members(self, session: Session, d: dict[str, Any]) -> None:
        self.stats.member_requests += 1
        guild = self.state.guilds.get(int(d.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = [int(u) for u in (d.get("user_ids") or [])]
        if user_ids:
            found = [m for m in members if m.user.id in user_ids]
        elif session.intents & GUILD_MEMBERS or d.get("query"):
            query = (d.get("query") or "").lower()
            found = [m for m in members if m.user.username.lower().startswith(query)]
        else:
            found = []
        limit = d.get("limit") or 0
        if limit:
            found = found[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.to_json() for m in found],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in user_ids if u not in guild.members],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        self._push(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.ws.close(code=1001, message=b"fake shutting down")
            conn.writer.cancel()
        await asyncio.gather(*(c.writer for c in self.connections), return_exceptions=True)
