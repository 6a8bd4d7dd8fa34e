"""The waiting room of a queue launch, in Redis.

Joining takes the next ticket and, in the same script, its admission time:
the later of "now", the start, and the previous ticket's admission time plus
one interval (60 s / rate). Admission times therefore rise with the ticket
numbers (first come, first served), no two are closer than an interval (the
rate holds in every window, also after a quiet spell: unused time is not
banked), and nothing needs to run for people to be admitted: a ticket is
admitted once its time has come. A shopper's position is how many tickets up
to theirs are not admitted yet (ZCOUNT), and the estimate is exactly the
time left until their admission.

A holder is "c:<customer id>" or "v:<visitor cookie>": one place each;
joining again returns the same ticket, unless its pass has run out (then the
holder goes to the back). Places per client address are limited
(app.ratelimit). Once no unit of the product can be reserved the room
closes for good (recorded on the launch) and every poll says "sold out";
availability is read from PostgreSQL at most once a second per launch.

Redis is the room's only memory: with Redis away the room answers 503 (the
caller raises RedisUnavailable) rather than guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from app.extensions import get_redis, require_redis
from app.inventory.service import available_units
from app.launches import passes
from app.launches.service import LaunchError, LaunchErrorCode, LaunchInfo, close_sold_out
from app.ratelimit import Limit, hit
from tenants.context import require_store

JOINS_PER_ADDRESS = Limit(5, 3600)  # places one client address may take in one launch's line, per hour
KEEP = 7 * 24 * 3600  # seconds a line's keys outlive their last use
AVAILABILITY_SECONDS = 1  # a launch's availability is read from PostgreSQL at most once in this many seconds

# KEYS: seq, last, times, holders. ARGV: holder, now ms, start ms, interval ms, pass ms, keep s.
# Returns {ticket, admission ms, 1 if new}.
_JOIN = """
local held = redis.call('HGET', KEYS[4], ARGV[1])
local now = tonumber(ARGV[2])
if held then
  local at = tonumber(redis.call('ZSCORE', KEYS[3], held))
  if at and at + tonumber(ARGV[5]) > now then return {tonumber(held), tostring(at), 0} end
end
local n = redis.call('INCR', KEYS[1])
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
local at = math.max(now, tonumber(ARGV[3]))
if last >= 0 then at = math.max(at, last + tonumber(ARGV[4])) end
redis.call('SET', KEYS[2], string.format('%d', at))
redis.call('ZADD', KEYS[3], string.format('%d', at), n)
redis.call('HSET', KEYS[4], ARGV[1], n)
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[6])) end
return {n, string.format('%d', at), 1}
"""


@dataclass(frozen=True)
class Ticket:
    number: int
    admitted_at: datetime


@dataclass(frozen=True)
class RoomState:
    """What the room tells one shopper. `phase`: not_open, waiting, admitted, expired, sold_out or ended."""

    phase: str
    ticket: Ticket | None = None
    position: int = 0  # tickets up to and including theirs not admitted yet (1: next)
    wait_seconds: int = 0  # until their admission, exactly as the line stands
    pass_token: str | None = None
    pass_expires_at: datetime | None = None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms) -> datetime:
    return datetime.fromtimestamp(int(float(ms)) / 1000, timezone.utc)


def _keys(info: LaunchInfo) -> list[str]:
    base = f"vitrine:launch:{require_store().id}:{info.id}:"
    return [base + part for part in ("seq", "last", "times", "holders")]


def _redis():
    require_redis()  # 503 with Retry-After while Redis is away
    return get_redis()


def interval_ms(info: LaunchInfo) -> int:
    """The time between two admissions, rounded up: never faster than the rate."""
    return -(-60_000 // info.rate_per_minute)


def join(info: LaunchInfo, holders: list[str] | str, address: str, now: datetime) -> Ticket:
    """The shopper's place in line: the one any of their names (`holders`: the
    logged-in customer, then the visitor cookie) holds, or a new one at the back
    under the first name."""
    holders = [holders] if isinstance(holders, str) else holders
    refuse_unless_open(info, now)
    if sold_out(info, now):
        raise LaunchError(LaunchErrorCode.CLOSED, f"{info.product_title} has sold out.", status=410, url=info.url)
    existing = ticket_of(info, holders)
    if existing is not None and existing.admitted_at + timedelta(minutes=info.pass_minutes) > now:
        return existing
    hit("launch-join", f"{require_store().id}:{info.id}:{address}", JOINS_PER_ADDRESS)
    number, at, _ = _redis().eval(_JOIN, 4, *_keys(info), holders[0], _ms(now), _ms(info.starts_at),
                                  interval_ms(info), info.pass_minutes * 60_000, KEEP)
    return Ticket(int(number), _moment(at))


def refuse_unless_open(info: LaunchInfo, now: datetime) -> None:
    if info.status == "ended" or not info.governs(now):
        raise LaunchError(LaunchErrorCode.CLOSED, "This launch has ended.", status=410, url=info.url)
    if info.status == "closed":
        raise LaunchError(LaunchErrorCode.CLOSED, f"{info.product_title} has sold out.", status=410, url=info.url)
    if now < info.starts_at:
        raise LaunchError(LaunchErrorCode.NOT_OPEN, f"The line opens at {info.starts_at:%d %b %Y, %H:%M} UTC.",
                          status=409, url=info.url)


def ticket_of(info: LaunchInfo, holders: list[str]) -> Ticket | None:
    """The first of the holder's names that has a ticket in this line."""
    redis = _redis()
    times, names = _keys(info)[2:]
    for holder in holders:
        number = redis.hget(names, holder)
        if number is not None:
            at = redis.zscore(times, number)
            if at is not None:
                return Ticket(int(number), _moment(at))
    return None


def state(info: LaunchInfo, ticket: Ticket | None, now: datetime) -> RoomState:
    """Where a shopper stands; an admitted one gets their pass (valid from their admission for the pass lifetime)."""
    if not info.governs(now):
        return RoomState("ended", ticket)
    if info.status == "closed" or (now >= info.starts_at and sold_out(info, now)):
        return RoomState("sold_out", ticket)
    if now < info.starts_at:
        return RoomState("not_open", ticket)
    if ticket is None:
        return RoomState("open")
    if ticket.admitted_at > now:
        ahead = _redis().zcount(_keys(info)[2], f"({_ms(now)}", _ms(ticket.admitted_at))
        wait = -(-(_ms(ticket.admitted_at) - _ms(now)) // 1000)
        return RoomState("waiting", ticket, position=max(1, int(ahead)), wait_seconds=int(wait))
    expires = ticket.admitted_at + timedelta(minutes=info.pass_minutes)
    if expires <= now:
        return RoomState("expired", ticket, pass_expires_at=expires)
    token = passes.issue(require_store().id, info.id, "q", ticket.number, expires)
    return RoomState("admitted", ticket, pass_token=token, pass_expires_at=expires)


def sold_out(info: LaunchInfo, now: datetime) -> bool:
    """Whether no unit can be reserved any more; the first to notice closes the room."""
    if info.status == "closed":
        return True
    key = f"vitrine:launch:{require_store().id}:{info.id}:units:{int(now.timestamp())}"  # one answer per second
    redis = _redis()
    cached = redis.get(key)
    if cached is None:
        units = available_units(info.product_id)
        cached = "-" if units is None else str(units)
        redis.set(key, cached, ex=AVAILABILITY_SECONDS + 1)
    if cached == "-" or int(cached) > 0:
        return False
    close_sold_out(info.id, now)
    return True


@dataclass(frozen=True)
class LineStats:
    joined: int
    admitted: int  # tickets whose time has come


def stats(info: LaunchInfo, now: datetime) -> LineStats:
    redis = _redis()
    seq, _, times, _ = _keys(info)
    return LineStats(int(redis.get(seq) or 0), int(redis.zcount(times, "-inf", _ms(now))))
