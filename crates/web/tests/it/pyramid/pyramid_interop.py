"""Interop oracle for portcullis-web's auth tickets: real Pyramid answers.

Used by crates/web/tests/it/ticket_pyramid.rs. Reads one JSON object on stdin and
writes one JSON object on stdout, with the same keys, each a list of answers in the
order of the requests:

  issue     {secret, userid, ip, tokens, user_data, time, hashalg}
            -> AuthTicket(...).cookie_value()
  parse     {secret, ticket, ip, hashalg}
            -> {"ok": [timestamp, userid, tokens, user_data]} | {"err": message}
  remember  {config, userid, tokens, host, remote_addr, now}
            -> [Set-Cookie values] (AuthTktCookieHelper.remember)
  forget    {config, host} -> [Set-Cookie values]
  identify  {config, cookie_header, host, remote_addr, now}
            -> null | {timestamp, userid, tokens, userdata, reissue: [Set-Cookie] | null}
            | {"error": message}

Typed userids are {"int": n} | {"str": s} | {"bytes": base64}. Time is frozen at
each request's `now` (Pyramid's time_mod.time, WebOb's datetime.utcnow for `expires`).

Run by hand: echo '{"issue": [...]}' | python pyramid_interop.py
"""

import base64
import datetime as _dt
import json
import sys
import warnings

import pyramid.authentication as pa
import webob.cookies
from webob import Request, Response

warnings.simplefilter("ignore")  # WebOb warns about quoted cookie values

NOW = [0]


class FrozenDatetime(_dt.datetime):
    @classmethod
    def utcnow(cls):
        return _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=NOW[0])


class FrozenTime:
    @staticmethod
    def time():
        return NOW[0]


webob.cookies.datetime = FrozenDatetime
pa.time_mod = FrozenTime


def typed(userid):
    if isinstance(userid, bool):
        raise TypeError("bool userid")
    if isinstance(userid, int):
        return {"int": userid}
    if isinstance(userid, bytes):
        return {"bytes": base64.b64encode(userid).decode("ascii")}
    return {"str": userid}


def untyped(t):
    if "int" in t:
        return t["int"]
    if "bytes" in t:
        return base64.b64decode(t["bytes"])
    return t["str"]


def helper(c):
    return pa.AuthTktCookieHelper(
        c["secret"],
        cookie_name=c.get("cookie_name", "auth_tkt"),
        secure=c.get("secure", False),
        include_ip=c.get("include_ip", False),
        timeout=c.get("timeout"),
        reissue_time=c.get("reissue_time"),
        max_age=c.get("max_age"),
        http_only=c.get("http_only", False),
        path=c.get("path", "/"),
        wild_domain=c.get("wild_domain", True),
        hashalg=c.get("hashalg", "sha512"),
        parent_domain=c.get("parent_domain", False),
        domain=c.get("domain"),
        samesite=c.get("samesite", "Lax"),
    )


def request(host, remote_addr, cookie_header=None):
    environ = {"REMOTE_ADDR": remote_addr, "HTTP_HOST": host}
    if cookie_header is not None:
        environ["HTTP_COOKIE"] = cookie_header
    req = Request.blank("/", environ=environ)
    callbacks = []
    req.add_response_callback = callbacks.append
    return req, callbacks


def set_cookies(headers):
    assert all(k == "Set-Cookie" for k, _ in headers)
    return [v for _, v in headers]


def do_issue(r):
    t = pa.AuthTicket(
        r["secret"],
        r["userid"],
        r["ip"],
        tokens=r["tokens"],
        user_data=r["user_data"],
        time=r["time"],
        hashalg=r["hashalg"],
    )
    return t.cookie_value()


def do_parse(r):
    try:
        ts, userid, tokens, user_data = pa.parse_ticket(
            r["secret"], r["ticket"], r["ip"], r["hashalg"]
        )
    except Exception as e:  # BadTicket, or ValueError for odd input
        return {"err": f"{type(e).__name__}: {e}"}
    return {"ok": [ts, userid, tokens, user_data]}


def do_remember(r):
    NOW[0] = r["now"]
    req, _ = request(r["host"], r["remote_addr"])
    h = helper(r["config"])
    return set_cookies(h.remember(req, untyped(r["userid"]), tokens=r["tokens"]))


def do_forget(r):
    req, _ = request(r["host"], "0.0.0.0")
    return set_cookies(helper(r["config"]).forget(req))


def do_identify(r):
    NOW[0] = r["now"]
    req, callbacks = request(r["host"], r["remote_addr"], r["cookie_header"])
    h = helper(r["config"])
    h.now = r["now"]
    try:
        identity = h.identify(req)
    except Exception as e:  # Pyramid raises on undecodable typed userids
        return {"error": f"{type(e).__name__}: {e}"}
    if identity is None:
        return None
    reissue = None
    if callbacks:
        resp = Response()
        before = len(resp.headerlist)
        for cb in callbacks:
            cb(req, resp)
        reissue = set_cookies(resp.headerlist[before:])
    return {
        "timestamp": identity["timestamp"],
        "userid": typed(identity["userid"]),
        "tokens": identity["tokens"],
        "userdata": identity["userdata"],
        "reissue": reissue,
    }


HANDLERS = {
    "issue": do_issue,
    "parse": do_parse,
    "remember": do_remember,
    "forget": do_forget,
    "identify": do_identify,
}


def main():
    req = json.load(sys.stdin)
    out = {k: [HANDLERS[k](r) for r in v] for k, v in req.items()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
