"""schemathesis hooks for card-gateway (loaded by scripts/schemathesis-check.sh).

One `before_call` hook (it runs in every phase, coverage included, and schemathesis revalidates the
case after it) adjusts only generated requests that no JSON Schema can tell apart from valid ones but
that the server must refuse, each for a rule the spec states in words:

- a list `cursor` that has the documented shape but was not issued by the gateway (it carries an HMAC
  tag over the tenant and the list; a forged one is refused 422 `is not a cursor issued by this API`):
  dropped;
- two currencies that must differ (exchange rates, exchanges, crypto transfers) but are equal: the
  second is changed;
- a replay window whose `until` is before its `since`: swapped; generated event ids (which name no
  recorded event): replaced by a window;
- a transaction window with `from` after `to` or longer than 45 days: narrowed;
- a card's `valid_until` in the past or more than ten years ahead (relative to today): moved into range;
- a cardholder's `birth_date` that makes them younger than 18 or older than 130 (relative to today):
  moved into range;
- a valid `Idempotency-Key` (the generators reuse short keys such as `!` for different requests, which
  the gateway rightly refuses 422 `idempotency_key_reused`): a fresh valid key per request.

Values that break the schema are left alone, so the negative checks still see every refusal.

It also serialises `ast.parse`: CPython 3.11 before 3.11.8 keeps the AST constructor's recursion depth
in state shared by threads, so two workers parsing at once (hypothesis parses lambda sources to
describe strategies) fail with `SystemError: AST constructor recursion depth mismatch`
(python/cpython#106905) — a tool error, not a finding.
"""
import ast
import datetime
import re
import sys
import threading
import uuid
from collections.abc import MutableMapping

import schemathesis

if sys.version_info < (3, 11, 8):
    _parse, _parse_lock = ast.parse, threading.Lock()

    def _serial_parse(*args, **kwargs):
        with _parse_lock:
            return _parse(*args, **kwargs)

    ast.parse = _serial_parse

CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{16}$")
CURRENCY = re.compile(r"^[A-Z]{3,4}$")
KEY = re.compile(r'^[ \t]*([\x21\x23-\x2b\x2d-\x3a\x3c-\x7e]{1,255}|"([\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255}")[ \t]*$')


def _other(code):
    return "EUR" if code != "EUR" else "USD"


def _date(v):
    try:
        return datetime.date.fromisoformat(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _years_from_today(n):
    """Today `n` years on (or back), on the 28th for 29 February."""
    t = datetime.date.today()
    return datetime.date(t.year + n, t.month, min(t.day, 28))


def _differ(container, a, b):
    if isinstance(container, MutableMapping):
        x, y = container.get(a), container.get(b)
        if isinstance(x, str) and x == y and CURRENCY.match(x):
            container[b] = _other(x)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    path = case.operation.path
    query, body, headers = case.query, case.body, case.headers

    if isinstance(query, MutableMapping):
        if isinstance(query.get("cursor"), str) and CURSOR.match(query["cursor"]):
            del query["cursor"]
        if path == "/v1/treasury/exchange-rates":
            _differ(query, "from", "to")
        if path.endswith("/transactions"):
            # The window (`to` defaults to today, `from` to 30 days before `to`) may span 45 days.
            f, t = _date(query.get("from")), _date(query.get("to"))
            if all(d is None or 1900 <= d.year <= 2999 for d in (f, t)) and (f or t):
                if f and t and f > t:
                    f, t = t, f
                if f and (t or datetime.date.today()) - f > datetime.timedelta(days=44):
                    query["from"], query["to"] = f.isoformat(), (f + datetime.timedelta(days=30)).isoformat()
                elif f and t:
                    query["from"], query["to"] = f.isoformat(), t.isoformat()

    if isinstance(body, MutableMapping):
        if path == "/v1/treasury/exchanges":
            _differ(body, "from_currency", "to_currency")
        if path == "/v1/cards" and _date(body.get("valid_until")):
            today = datetime.date.today()
            d = _date(body["valid_until"])
            if d < today or d.year > today.year + 10:
                body["valid_until"] = _years_from_today(3).isoformat()
        if path == "/v1/cardholders" and _date(body.get("birth_date")):
            d = _date(body["birth_date"])
            if 1900 <= d.year <= 2999 and not _years_from_today(-130) < d <= _years_from_today(-19):
                body["birth_date"] = _years_from_today(-30).isoformat()
        if path == "/v1/treasury/crypto-transfers":
            _differ(body, "currency", "to_currency")
        if path.endswith("/replay"):
            since, until = body.get("since"), body.get("until")
            if isinstance(since, str) and isinstance(until, str) and until < since:
                body["since"], body["until"] = until, since
            # Generated event ids name no recorded event (422 `names an event that is not in the log`):
            # a window replays whatever the endpoint has instead.
            ids = body.get("event_ids")
            if isinstance(ids, list) and ids and all(isinstance(i, str) and re.match(r"^[A-Za-z0-9_-]{1,64}$", i) for i in ids):
                body["event_ids"] = []
                if not isinstance(body.get("since"), str):
                    body["since"] = "2000-01-01T00:00:00Z"

    if isinstance(headers, MutableMapping):
        for name in list(headers):
            if name.lower() == "idempotency-key" and isinstance(headers[name], str) and KEY.match(headers[name]):
                headers[name] = f"st-{uuid.uuid4()}"
