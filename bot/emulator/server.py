"""BotApiEmulator: a local Telegram Bot API server for tests and the tokenless sandbox.

A real aiogram Bot talks to it over HTTP::

    emulator = BotApiEmulator()
    await emulator.start()
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.url))
    bot = Bot(emulator.token, session=session)

Every request is validated against api.json and Telegram's limits (see validation.py);
whatever the real Telegram would reject ends up in `violations` and is answered 400.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator.chats import ChatMessage, ChatState
from bot.emulator.methods import MAX_UPLOAD_BYTES, ApiMethods
from bot.emulator.models import CallRecord, Command, UploadedFile, Violation
from bot.emulator.spec import DEFAULT_SPEC_PATH
from bot.emulator.state import (
    ApiError,
    BotActivityListener,
    CallbackRecord,
    EmulatorState,
    bad_request,
)
from bot.emulator.updates import UpdateRecord
from bot.emulator.validation import RequestValidator

if TYPE_CHECKING:
    from bot.emulator.user import ScriptedUser

DEFAULT_TOKEN = "1234567890:AAEmulatorSandboxToken_NotARealTelegramToken"
# Injections without a method never hit polling; a test wants the bot's own calls to fail.
_NOT_HIT_BY_ANY_METHOD_INJECTION = frozenset({"getUpdates"})
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class CallHold:
    method: str
    after: bool
    remaining: int
    where: Callable[[dict[str, Any]], bool] | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, params: dict[str, Any], *, after: bool) -> bool:
        if self.after != after or self.remaining <= 0 or self.method != method:
            return False
        if self.where is not None and not self.where(params):
            return False
        self.remaining -= 1
        return True


@dataclass
class InjectedFailure:
    status: int
    retry_after: int | None
    method: str | None
    chat_id: int | str | None
    remaining: int
    description: str | None = None

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is None and method in _NOT_HIT_BY_ANY_METHOD_INJECTION:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def to_error(self) -> ApiError:
        template = self.description or _DEFAULT_DESCRIPTIONS.get(self.status, "Injected failure")
        retry_after = self.retry_after if self.status == 429 else None
        return ApiError(
            self.status, template.format(retry_after=retry_after), retry_after=retry_after
        )


class BotApiEmulator:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "zhupei_sandbox_bot",
        spec_path: Path = DEFAULT_SPEC_PATH,
        *,
        bot_first_name: str = "Zhupei Sandbox",
        processing_timeout: float = 10.0,
        quiet_period: float = 0.3,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.validator = RequestValidator(spec_path=spec_path)
        self.state = EmulatorState(self.bot_user)
        self.methods = ApiMethods(self.state)
        self.processing_timeout = processing_timeout
        self.quiet_period = quiet_period
        # When True, a user action fails if the bot raised while processing its update.
        self.raise_processing_errors = True

        self.calls: list[CallRecord] = []
        self.violations: list[Violation] = []
        self.unanswered_callbacks: list[CallbackRecord] = []
        self.failures: list[InjectedFailure] = []
        self.holds: list[CallHold] = []
        self.blocked_chats: set[int | str] = set()
        self.tracker_attached = False
        self.internal_errors: list[Exception] = []

        self._users: dict[int, ScriptedUser] = {}
        self._callback_ids = itertools.count(7_000_000_000_000_000_001)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # --- lifecycle ----------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL for TelegramAPIServer.from_base()."""
        if self._url is None:
            raise RuntimeError("the emulator is not started")
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        # handler_cancellation ends a long poll whose client went away (polling stopped).
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        return self._url

    async def stop(self) -> None:
        self.state.updates.close()
        if self.state.webhook is not None:
            await self.state.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- users and updates --------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "zh-hans",
        username: str | None = None,
        *,
        last_name: str | None = None,
        phone_number: str | None = None,
    ) -> ScriptedUser:
        """The scripted user `user_id` (created on first call; later calls return it)."""
        from bot.emulator.user import ScriptedUser

        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        scripted = ScriptedUser(
            self,
            user_id,
            first_name=first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
            phone_number=phone_number,
        )
        self._users[user_id] = scripted
        self.state.known_users[user_id] = scripted.api
        return scripted

    def enqueue_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (its update_id is assigned here) without waiting for it."""
        return self.submit_update(update)[0].update_id

    def submit_update(self, update: dict[str, Any]) -> tuple[UpdateRecord, ChatMessage | None]:
        payload = copy.deepcopy(update)
        payload.pop("update_id", None)
        query = payload.get("callback_query")
        if query is not None:
            query.setdefault("id", self.next_callback_id())
            query.setdefault("chat_instance", f"ci{query['from']['id']}")
        chat, message = self._register_incoming(payload)
        record = self.state.updates.push(payload, chat.chat_id if chat else None)
        if query is not None:
            self.state.callbacks[query["id"]] = CallbackRecord(
                id=query["id"],
                update_id=record.update_id,
                user_id=query["from"]["id"],
                chat_id=chat.chat_id if chat else None,
                message_id=(query.get("message") or {}).get("message_id"),
                data=query.get("data"),
            )
        return record, message

    def next_callback_id(self) -> str:
        return str(next(self._callback_ids))

    def _register_incoming(
        self, payload: dict[str, Any]
    ) -> tuple[ChatState | None, ChatMessage | None]:
        if "message" in payload:
            body = payload["message"]
            if "from" not in body:
                raise ValueError("a message update needs 'from' (the sending user)")
            if body.get("chat", {}).get("type", "private") != "private":
                group = self.state.open_group(body["chat"])
                message = self.state.add_user_message(group, body)
                group.touch()
                return group, message
            chat = self.state.open_chat(body["from"])
            message = self.state.add_user_message(chat, body)
            chat.touch()
            return chat, message
        if "channel_post" in payload:
            body = payload["channel_post"]
            channel = self.state.open_group(body["chat"])
            return channel, self.state.add_user_message(channel, body)
        query = payload.get("callback_query")
        if query is not None:
            where = (query.get("message") or {}).get("chat") or {}
            if where.get("type", "private") != "private":
                chat = self.state.open_group(where)
            else:
                chat = self.state.open_chat(query["from"])
            chat.touch()
            return chat, None
        return None, None

    # --- processing ---------------------------------------------------------

    def attach_tracker(self) -> None:
        """Called by ProcessedTracker: the bot reports each processed update itself."""
        self.tracker_attached = True

    def mark_processed(self, update_id: int, error: BaseException | None = None) -> None:
        record = self.state.updates.records.get(update_id)
        if record is None or record.processed.is_set():
            return
        record.error = error
        self._check_callback_answered(record)
        record.mark_processed()

    async def wait_processed(
        self,
        update_id: int,
        timeout: float | None = None,  # noqa: ASYNC109 - part of the harness API
    ) -> None:
        """Wait until the bot finished processing the update; AssertionError on timeout."""
        record = self.state.updates.records[update_id]
        limit = self.processing_timeout if timeout is None else timeout
        if self.tracker_attached:
            try:
                await asyncio.wait_for(record.processed.wait(), limit)
            except TimeoutError:
                raise AssertionError(self._timeout_message(record, limit)) from None
        else:
            await self._wait_quiet(record, limit)
        if record.error is not None and self.raise_processing_errors:
            raise AssertionError(
                f"the bot raised while processing {record.describe()}: {record.error!r}"
            ) from record.error

    async def wait_idle(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every update queued so far has been processed."""
        limit = self.processing_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        for update_id in list(self.state.updates.records):
            await self.wait_processed(update_id, max(deadline - time.monotonic(), 0.0))

    async def wait_in_flight(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait (without failing) until no fetched update is still being processed."""
        deadline = time.monotonic() + timeout
        while any(
            record.fetched_at is not None and not record.processed.is_set()
            for record in self.state.updates.records.values()
        ):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    @property
    def processing_errors(self) -> list[tuple[int, BaseException]]:
        return [
            (record.update_id, record.error)
            for record in self.state.updates.records.values()
            if record.error is not None
        ]

    async def _wait_quiet(self, record: UpdateRecord, limit: float) -> None:
        """Without a tracker: the update was fetched and its chat has been quiet a while."""
        deadline = time.monotonic() + limit
        while not record.processed.is_set():
            now = time.monotonic()
            if record.fetched_at is not None:
                chat = self.state.chats.get(record.chat_id) if record.chat_id else None
                last = max(record.fetched_at, chat.last_activity if chat else 0.0)
                if now - last >= self.quiet_period:
                    self.mark_processed(record.update_id)
                    return
            if now >= deadline:
                raise AssertionError(self._timeout_message(record, limit))
            await asyncio.sleep(0.05)

    def _timeout_message(self, record: UpdateRecord, limit: float) -> str:
        fetched = "yes" if record.fetched_at is not None else "no (is polling running?)"
        return (
            f"{record.describe()} was not processed within {limit:g} s; "
            f"fetched by the bot: {fetched}"
        )

    def _check_callback_answered(self, record: UpdateRecord) -> None:
        query = record.payload.get("callback_query")
        if query is None or record.skipped:
            return
        callback = self.state.callbacks.get(query["id"])
        if callback is not None and not callback.answered:
            self.unanswered_callbacks.append(callback)

    # --- failure injection --------------------------------------------------

    def inject_failure(
        self,
        status: int = 429,
        retry_after: int | None = 3,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> InjectedFailure:
        """Answer the next `times` matching calls with an error instead of running them.

        `method=None` matches every method except getUpdates; `chat_id=None` any chat.
        """
        failure = InjectedFailure(status, retry_after, method, chat_id, times, description)
        self.failures.append(failure)
        return failure

    def hold(
        self,
        method: str,
        *,
        after: bool = False,
        times: int = 1,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> CallHold:
        """Hold the next `times` calls of `method` (whose parameters satisfy `where`) until
        `release` is set: before they take effect (as a request still on its way), or `after`
        it (a response on its way back). `reached` is set when a call is held: the moment to
        stop a bot, say."""
        hold = CallHold(method, after, times, where)
        self.holds.append(hold)
        return hold

    def add_listener(self, listener: BotActivityListener) -> None:
        """Call `listener(kind, message)` whenever the bot sends ("sent"), edits
        ("edited") or deletes ("deleted") a message, e.g. to show it in a terminal."""
        self.state.listeners.append(listener)

    def remove_listener(self, listener: BotActivityListener) -> None:
        self.state.listeners.remove(listener)

    def block_chat(self, chat_id: int | str) -> None:
        """From now on every call aimed at this chat gets 403 'bot was blocked by the user'."""
        self.blocked_chats.add(chat_id)

    def unblock_chat(self, chat_id: int | str) -> None:
        self.blocked_chats.discard(chat_id)

    # --- inspection ---------------------------------------------------------

    def assert_no_violations(self) -> None:
        """Fail listing every request Telegram would have rejected (and emulator bugs)."""
        lines = [f"  - {violation}" for violation in self.violations]
        lines += [f"  - emulator internal error: {error!r}" for error in self.internal_errors]
        if lines:
            listing = "\n".join(lines)
            raise AssertionError(f"{len(lines)} Bot API violation(s) by the bot:\n{listing}")

    def chat(self, chat_id: int) -> ChatState | None:
        return self.state.chats.get(chat_id)

    def messages(self, chat_id: int) -> list[ChatMessage]:
        chat = self.state.chats.get(chat_id)
        return list(chat.messages) if chat else []

    def visible_commands(self, chat_id: int, language_code: str | None) -> list[Command]:
        chat = self.state.chats.get(chat_id)
        if chat is not None and chat.kind in ("group", "supergroup"):
            return self.state.commands.visible_in_group_chat(chat_id, language_code)
        return self.state.commands.visible_in_private_chat(chat_id, language_code)

    def calls_to(self, method: str) -> list[CallRecord]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.state.files.get(file_id)
        if stored is None:
            raise KeyError(file_id)
        return stored.data

    # --- HTTP ---------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        record = CallRecord(method, {}, None, time.monotonic(), time.time())
        self.calls.append(record)
        try:
            params, files = await _read_params(request)
            record.params = params
            result = await self._call(method, params, files, record)
            body: dict[str, Any] = {"ok": True, "result": result}
            record.status = 200
        except ApiError as error:
            body = error.to_response()
            record.status, record.description = error.status, error.description
        except asyncio.CancelledError:
            record.status, record.description = 499, "client closed the request"
            raise
        except Exception as error:
            # A bug of the emulator itself: keep it visible to the test.
            self.internal_errors.append(error)
            body = ApiError(500, f"Internal Server Error: emulator failed: {error!r}").to_response()
            record.status, record.description = 500, body["description"]
        return web.json_response(body, status=record.status)

    async def _call(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        record: CallRecord,
    ) -> Any:
        checked = self.validator.check(method, params, files)
        if checked.method is None:
            self._violate(method, f"unknown method {method!r}", params)
            raise ApiError(404, "Not Found")
        method = record.method = checked.method
        record.params = checked.params
        record.chat_id = self._chat_of(checked.params)
        if not checked.ok:
            for problem in checked.problems:
                self._violate(method, str(problem), params)
            more = len(checked.problems) - 1
            suffix = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
            raise bad_request(f"{checked.problems[0]}{suffix}")
        handler = self.methods.handlers.get(method)
        if handler is None:
            self._violate(method, "method is not emulated", params)
            raise bad_request(f"method {method} is not supported by the emulator")
        self._before_call(method, record.chat_id)
        await self._held(method, checked.params, after=False)
        result = await handler(checked.params)
        await self._held(method, checked.params, after=True)
        return result

    async def _held(self, method: str, params: dict[str, Any], *, after: bool) -> None:
        for hold in self.holds:
            if hold.matches(method, params, after=after):
                hold.reached.set()
                await hold.release.wait()
                return

    def _before_call(self, method: str, chat_id: int | str | None) -> None:
        if chat_id is not None:
            chat = self.state.chats.get(chat_id) if isinstance(chat_id, int) else None
            if chat is not None:
                chat.touch()
        for failure in self.failures:
            if failure.matches(method, chat_id):
                failure.remaining -= 1
                raise failure.to_error()
        if chat_id is not None and chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _chat_of(self, params: dict[str, Any]) -> int | str | None:
        if "chat_id" in params:
            return params["chat_id"]
        callback = self.state.callbacks.get(params.get("callback_query_id", ""))
        return callback.chat_id if callback else None

    def _violate(self, method: str, problem: str, params: dict[str, Any]) -> None:
        shown = {k: _printable(v) for k, v in params.items()}
        self.violations.append(Violation(method, problem, shown))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        stored = self.state.files.by_path(request.match_info["file_path"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters from the query string and a form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("the JSON request body must be an object")
        params.update(body)
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
        else:
            params[key] = value if isinstance(value, str) else bytes(value).decode()
    return params, files


def _printable(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        return f"<file {value.filename!r}, {len(value.data)} bytes>"
    if isinstance(value, str) and len(value) > 300:
        return value[:300] + f"... ({len(value)} characters)"
    try:
        json.dumps(value)
    except TypeError:
        return repr(value)
    return value
