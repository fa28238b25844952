"""A local stand-in for Twilio: its Calls and Messages REST endpoints, and the callees who drive the app's webhooks.

`calls.create` (as the twilio SDK sends it) is accepted, then the call is played out against the URLs it
named, the way Twilio does: signed form posts, status callbacks for the requested events, synchronous AMD
(AnsweredBy on the answer webhook), scripted speech for each <Gather>, <Dial> results, busy / no-answer /
failed, and duplicated final status callbacks. Each call keeps a transcript and the webhook timings.
Texts (`messages.create`) go to the same callees (telephony/simulator/texts.py).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from telephony.signature import SIGNATURE_HEADER, SignatureChecker
from telephony.simulator.scenario import Pickup, Scenario
from telephony.simulator.texts import SimText, TextDesk

logger = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 15.0  # Twilio's whole budget for one webhook


@dataclass
class SimCall:
    """One simulated call and everything that happened on it."""

    sid: str
    to: str
    from_: str
    url: str
    status_callback: str | None
    events: list[str]
    machine_detection: bool
    pickup: Pickup
    create_params: dict[str, list[str]] = field(default_factory=dict)  # the calls.create form, as sent
    transcript: list[str] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)  # (CallStatus sent, HTTP code)
    timings: list[tuple[str, float, int]] = field(default_factory=list)  # (path, seconds, HTTP code)
    final_status: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def transcript_text(self) -> str:
        return "\n".join([f"=== {self.sid} → {self.to} ({self.final_status})", *self.transcript])


class TwilioSimulator:
    """Serve `.app` on loopback and point telephony.api_base_url at it."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        scenario: Scenario,
        on_finished: Callable[[SimCall], None] | None = None,
        on_text: Callable[[SimText], None] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._token = auth_token
        self._signer = SignatureChecker(auth_token, "")
        self.scenario = scenario
        self.calls: dict[str, SimCall] = {}
        self._per_number: dict[str, int] = {}
        self.create_requests: dict[str, int] = {}  # calls.create requests received, per number
        self._on_finished = on_finished
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self.texts = TextDesk(pickup_for=self._latest_pickup, on_done=on_text)
        self.app = self._build_app()

    def _latest_pickup(self, number: str) -> Pickup:
        """The script of the latest call to `number` (or of a first call): what the callee does next."""
        with self._lock:
            calls = self._per_number.get(number, 0)
        return self.scenario.pickup(number, max(calls - 1, 0))

    # -- observation (thread-safe: tests wait from another thread than the serving loop) ----------

    def wait_for_calls(self, count: int, *, timeout: float = 60.0) -> list[SimCall]:
        """Block until `count` calls have finished (call from a thread, e.g. asyncio.to_thread)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                finished = [c for c in self.calls.values() if c.done.is_set()]
            if len(finished) >= count:
                return finished
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(finished)} of {count} simulated calls finished")
            time.sleep(0.02)

    def calls_to(self, number: str) -> list[SimCall]:
        with self._lock:
            return [c for c in self.calls.values() if c.to == number]

    # -- the REST API -----------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Twilio simulator")

        @app.post("/2010-04-01/Accounts/{account_sid}/Calls.json")
        async def create_call(account_sid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, account_sid):
                return _error(401, 20003, "Authenticate")
            form = await request.form()
            to, from_, url = (str(form.get(k) or "") for k in ("To", "From", "Url"))
            if not url:
                return _error(400, 21205, "Url is required")
            if not to.startswith("+") or not to[1:].isdigit():
                return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            if to.startswith(tuple(self.scenario.refuse_prefixes)):
                return _error(400, 21215, f"Account not authorized to call {to}.")
            with self._lock:
                call_no = self._per_number.get(to, 0)
                self._per_number[to] = call_no + 1
                self.create_requests[to] = self.create_requests.get(to, 0) + 1
            failure = self.scenario.pickup(to, call_no).rest_error
            if failure is not None:
                return _error(failure, 20500 if failure >= 500 else 21210, "simulated REST failure")
            with self._lock:
                call = SimCall(
                    sid="CA" + secrets.token_hex(16),
                    to=to,
                    from_=from_,
                    url=url,
                    status_callback=str(form.get("StatusCallback") or "") or None,
                    events=[str(v) for v in form.getlist("StatusCallbackEvent")] or ["completed"],
                    machine_detection=bool(form.get("MachineDetection")),
                    pickup=self.scenario.pickup(to, call_no),
                    create_params={key: [str(v) for v in form.getlist(key)] for key in form},
                )
                self.calls[call.sid] = call
            task = asyncio.create_task(self._play(call))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            body = {"sid": call.sid, "account_sid": account_sid, "to": to, "from": from_, "status": "queued"}
            return JSONResponse(body, status_code=201)

        @app.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
        async def create_message(account_sid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, account_sid):
                return _error(401, 20003, "Authenticate")
            form = await request.form()
            to, body = str(form.get("To") or ""), str(form.get("Body") or "")
            sender = str(form.get("From") or form.get("MessagingServiceSid") or "")
            if not to.startswith("+") or not to[1:].isdigit():
                return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
            if to.startswith(tuple(self.scenario.refuse_prefixes)):
                return _error(400, 21408, f"Permission to send an SMS has not been enabled for the region of {to}")
            if not body or not sender:
                return _error(400, 21602, "Message body and a sender are required")
            text = self.texts.receive(to=to, from_=sender, body=body)
            reply = {"sid": text.sid, "account_sid": account_sid, "to": to, "from": sender, "body": body,
                     "status": "queued"}  # fmt: skip
            return JSONResponse(reply, status_code=201)

        return app

    def _authorised(self, request: Request, account_sid: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self._token}".encode()).decode()
        header = request.headers.get("authorization", "")
        return account_sid == self.account_sid and secrets.compare_digest(header, f"Basic {expected}")

    # -- playing a call ---------------------------------------------------------------------------

    async def _play(self, call: SimCall) -> None:
        try:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S) as http:
                await self._run(http, call)
        except Exception as exc:  # a simulator bug must still end the call and show why
            logger.exception("simulated call %s failed", call.sid)
            call.transcript.append(f"!! simulator error: {exc!r}")
            call.final_status = call.final_status or "failed"
        finally:
            call.done.set()
            if self._on_finished is not None:
                self._on_finished(call)

    async def _run(self, http: httpx.AsyncClient, call: SimCall) -> None:
        pickup = call.pickup
        await self._status(http, call, "initiated", event="initiated")
        if pickup.outcome == "failed":
            await self._final(http, call, "failed")
            return
        await self._status(http, call, "ringing", event="ringing")
        if pickup.outcome != "answered":
            call.transcript.append(f"-- {pickup.outcome}")
            await self._final(http, call, pickup.outcome)
            return
        answered = {"AnsweredBy": pickup.answered_by} if call.machine_detection else {}
        call.transcript.append(f"-- answered by {pickup.answered_by}")
        await self._status(http, call, "in-progress", event="answered", extra=answered)
        turns = await self._conversation(http, call, answered)
        await self._final(http, call, "completed", extra={**answered, "CallDuration": str(5 + 6 * turns)})

    async def _conversation(self, http: httpx.AsyncClient, call: SimCall, answered: dict[str, str]) -> int:
        """Follow the TwiML the app returns until it hangs up or stops giving instructions."""
        utterances = list(call.pickup.says)
        document = await self._post(http, call, call.url, {**answered, "CallStatus": "in-progress"})
        turns = 0
        while document is not None and turns < call.pickup.max_turns:
            turns += 1
            next_request = self._follow(call, document, utterances)
            if next_request is None:
                break
            url, params = next_request
            document = await self._post(http, call, url, {"CallStatus": "in-progress", **params})
        return turns

    def _follow(self, call: SimCall, document: str, utterances: list[str]) -> tuple[str, dict[str, str]] | None:
        """Speak the document; return the next request Twilio would make (a Gather or Dial action)."""
        try:
            root = ET.fromstring(document)
        except ET.ParseError:
            call.transcript.append("!! invalid TwiML")
            return None
        for node in root:
            if node.tag == "Say":
                call.transcript.append(f"bot:    {node.text or ''}")
            elif node.tag == "Gather":
                for say in node.iter("Say"):
                    call.transcript.append(f"bot:    {say.text or ''}")
                heard = utterances.pop(0) if utterances else ""
                call.transcript.append(f"caller: {heard}" if heard else "caller: (silence)")
                confidence = "0.92" if heard else "0.0"
                return node.attrib["action"], {"SpeechResult": heard, "Confidence": confidence}
            elif node.tag == "Dial":
                number = node.findtext("Number") or node.text or ""
                call.transcript.append(f"-- transfer to {number}: {call.pickup.transfer_status}")
                if "action" not in node.attrib:
                    return None
                return node.attrib["action"], {"DialCallStatus": call.pickup.transfer_status}
            elif node.tag == "Hangup":
                call.transcript.append("-- hangup")
                return None
        return None

    async def _status(
        self, http: httpx.AsyncClient, call: SimCall, status: str, *, event: str, extra: dict[str, str] | None = None
    ) -> None:
        if call.status_callback and event in call.events:
            code = await self._post_status(http, call, status, extra)
            call.statuses.append((status, code))

    async def _final(
        self, http: httpx.AsyncClient, call: SimCall, status: str, extra: dict[str, str] | None = None
    ) -> None:
        call.final_status = status
        if not call.status_callback:
            return
        for _ in range(2 if call.pickup.duplicate_status else 1):
            code = await self._post_status(http, call, status, extra)
            call.statuses.append((status, code))

    async def _post_status(
        self, http: httpx.AsyncClient, call: SimCall, status: str, extra: dict[str, str] | None
    ) -> int:
        assert call.status_callback is not None
        params = {"CallStatus": status, "SequenceNumber": str(len(call.statuses)), **(extra or {})}
        response = await self._send(http, call, call.status_callback, params)
        return response.status_code if response is not None else 0

    async def _post(self, http: httpx.AsyncClient, call: SimCall, url: str, params: dict[str, str]) -> str | None:
        response = await self._send(http, call, url, params)
        if response is None:
            return None  # _send noted why
        if response.status_code != 200:
            call.transcript.append(f"!! webhook {url} answered {response.status_code}")
            return None
        return response.text

    async def _send(
        self, http: httpx.AsyncClient, call: SimCall, url: str, params: dict[str, str]
    ) -> httpx.Response | None:
        """One signed webhook request, exactly as Twilio signs it (the URL it calls + sorted params)."""
        form = {
            "CallSid": call.sid, "AccountSid": self.account_sid, "From": call.from_, "To": call.to,
            "Direction": "outbound-api", "ApiVersion": "2010-04-01", **params,
        }  # fmt: skip
        headers = {SIGNATURE_HEADER: self._signer.sign(url, form)}
        started = time.perf_counter()
        try:
            response = await http.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            call.transcript.append(f"!! webhook {url} unreachable: {exc!r}")
            return None
        call.timings.append((httpx.URL(url).path, time.perf_counter() - started, response.status_code))
        return response


def _error(status: int, code: int, message: str) -> JSONResponse:
    """Twilio's REST error body, which the SDK turns into TwilioRestException."""
    body: dict[str, Any] = {"code": code, "message": message, "more_info": "", "status": status}
    return JSONResponse(body, status_code=status)
