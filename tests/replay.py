"""The replay server, told to misbehave: the faults the test suite injects.

:class:`FaultyReplay` is the package's :class:`ReplayServer` with a list of :class:`Fault`
that its handler applies, one matching request at a time. It lives with the tests because
only tests use it; the package's server offers the two hooks it needs
(``_Handler.intercept`` to answer a request some other way, ``_Handler.adjust`` to change
an answer before it is sent).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vluchtelingen_in_beeld.access.server import DATASETS, ReplayServer, _Handler

#: The longest a "hang" fault keeps a request open; bounded so no test can hang for ever.
MAX_HANG_SECONDS = 10.0
#: The longest a drip fault keeps sending; bounded for the same reason.
MAX_DRIP_SECONDS = 60.0

Rows = list[dict[str, Any]]


@dataclass
class Fault:
    """One way to misbehave, applied to requests whose path contains ``match``.

    ``kind`` is one of:

    - ``"500"``, ``"hang"``, ``"drop"``, ``"truncate"``, ``"slow"``;
    - ``"unfiltered"``: answer as if the ``$filter`` were not there (what CBS does with a
      clause it does not understand);
    - ``"drip_headers"``, ``"drip_body"``: send the answer one byte every ``seconds``
      (for at most :data:`MAX_DRIP_SECONDS`);
    - ``"next_loop"``: an ``odata.nextLink`` that points to the request itself;
    - ``"rows_not_objects"`` (``{"value": ["a", "b"]}``), ``"no_value"`` (``{"foo": 1}``),
      ``"empty_list"`` (``{"value": []}``): answers of the wrong shape;
    - ``"redirect_loop"``: a 302 to the same URL; ``"redirect"``: one 302 to the same
      resource (a query parameter added); ``"short_body"``: a Content-Length the body does
      not reach, then the connection closes;
    - ``"429"``: HTTP 429 with ``Retry-After: seconds``;
    - ``"rewrite"``: the normal answer with its page of rows passed through ``rows``
      (answers of the right shape with bad content: a row missing, a negative count …;
      for PDOK, its page of features);
    - ``"no_crs"``: a PDOK answer without its CRS (the ``crs`` member of a WFS answer, the
      ``Content-Crs`` header of an OGC API one);
    - ``"404"``, ``"410"``: that status (a service moved or retired).

    ``times`` is how many matching requests it spoils (``None``: every one).
    ``seconds`` is the delay for ``hang`` and ``slow``, the drip interval, or Retry-After.
    """

    kind: str
    match: str = ""
    times: int | None = 1
    seconds: float = 5.0
    hits: int = 0
    rows: Callable[[Rows], Rows] | None = None
    #: for a ``rewrite`` of PDOK's WFS: its ``numberMatched`` follows the rewritten page (a
    #: consistently bad answer), instead of still counting what the service holds
    consistent: bool = False

    def applies(self, path: str) -> bool:
        if self.match not in path:
            return False
        return self.times is None or self.hits < self.times


class _FaultyHandler(_Handler):
    faults: list[Fault]  # set on the subclass, shared with the server
    lock: threading.Lock
    fault: Fault | None = None

    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.applies(path):
                    fault.hits += 1
                    return fault
        return None

    def intercept(self) -> bool:
        fault = self.fault = self._fault_for(self.path)
        if fault is None:
            return False
        kind = fault.kind
        if kind == "500":
            self._error(500, "Internal Server Error (injected)")
            return True
        if kind in ("404", "410"):
            self._error(int(kind), "Not Found (injected)" if kind == "404"
                        else "Gone: this service has been retired (injected)")  # fmt: skip
            return True
        if kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return True
        if kind == "hang":
            time.sleep(min(fault.seconds, MAX_HANG_SECONDS))
            self.close_connection = True
            return True
        if kind == "slow":
            time.sleep(min(fault.seconds, MAX_HANG_SECONDS))
        return self._misbehave(fault)

    def filter_of(self, query: dict[str, str]) -> str:
        if self.fault is not None and self.fault.kind == "unfiltered":
            return ""
        return super().filter_of(query)

    def adjust(self, answer: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
        fault = self.fault
        if fault is None:
            return
        if fault.kind == "no_crs" and answer == "wfs":
            payload.pop("crs", None)
        if fault.kind == "no_crs" and answer == "ogc":
            headers.pop("Content-Crs", None)
        if fault.kind == "rewrite" and fault.rows is not None:
            if answer in ("wfs", "ogc"):
                before = len(payload["features"])
                payload["features"] = fault.rows(copy.deepcopy(payload["features"]))
                if answer == "wfs" and fault.consistent:
                    payload["numberMatched"] += len(payload["features"]) - before
            elif answer in DATASETS:
                payload["value"] = fault.rows([dict(r) for r in payload["value"]])

    def _send(self, status: int, payload: Any, *, headers: dict[str, str] | None = None) -> None:
        if self.fault is None or self.fault.kind != "truncate":
            super()._send(status, payload, headers=headers)
            return
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        for k, v in {"Content-Type": "application/json;charset=utf-8", **(headers or {})}.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: max(1, len(body) // 2)])
        self.close_connection = True

    def _misbehave(self, fault: Fault) -> bool:
        """Answer as ``fault`` says; ``False`` if it only changes a normal answer."""
        kind = fault.kind
        if kind in ("drip_headers", "drip_body"):
            body = json.dumps({"value": []}).encode()
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            slow, fast = (head + body, b"") if kind == "drip_headers" else (body, head)
            self.close_connection = True
            end = time.monotonic() + MAX_DRIP_SECONDS
            try:
                self.wfile.write(fast)
                for i in range(len(slow)):
                    if time.monotonic() > end:
                        break
                    self.wfile.write(slow[i : i + 1])
                    self.wfile.flush()
                    time.sleep(fault.seconds)
            except OSError:
                pass  # the client gave up: that is the point
            return True
        shapes = {
            "rows_not_objects": {"value": ["a", "b"]},
            "no_value": {"foo": 1},
            "empty_list": {"value": []},
        }
        if kind in shapes:
            self._send(200, shapes[kind])
            return True
        if kind == "next_loop":
            self._send(200, {"value": [], "odata.nextLink": self._base() + self.path})
            return True
        if kind in ("redirect", "redirect_loop"):
            # "redirect": once, to the same resource (as a load balancer may)
            sep = "&" if "?" in self.path else "?"
            extra = f"{sep}via=redirect" if kind == "redirect" else ""
            self.send_response(302)
            self.send_header("Location", f"{self._base()}{self.path}{extra}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if kind == "short_body":  # promises more than it sends, then closes
            body = json.dumps({"value": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 500))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return True
        if kind == "429":
            body = b'{"odata.error": {"message": {"value": "Too many requests"}}}'
            self.send_response(429)
            self.send_header("Retry-After", f"{fault.seconds:g}")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        return False


class FaultyReplay(ReplayServer):
    """A :class:`ReplayServer` that applies :attr:`faults` (append to make it misbehave)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.faults: list[Fault] = []
        self.handler = type(
            "FaultyHandler",
            (_FaultyHandler,),
            {"faults": self.faults, "lock": threading.Lock()},
        )
        super().__init__(*args, **kwargs)
