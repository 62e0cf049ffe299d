"""A client of the OpenAI chat completions API (llama.cpp, vLLM, Ollama, hosted APIs), through httpx.

One :class:`ChatClient` (one ``httpx.Client``) is shared by the worker threads.
``complete`` retries what may pass on a second try: HTTP 408, 429 and 5xx, timeouts,
dropped connections and malformed answers, with exponential backoff and jitter, honouring
``Retry-After``, at most ``max_attempts`` times. It raises :class:`EndpointError` at once
for a refused connection, a rejected key (401/403) and other 4xx answers. Messages name
the URL and the key's environment variable, never the key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from skillpm.evaluation.errors import EndpointError
from skillpm.jsonfile import parse_json
from skillpm.retry import RetryPolicy

RETRY_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class Completion:
    """An answer: its text, the tokens the endpoint counted, and how long the request took."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_s": self.latency_s,
        }

    @classmethod
    def from_json(cls, data: Any) -> Completion | None:
        """A completion stored by :meth:`to_json`, or ``None`` when ``data`` is not one."""
        try:
            completion = cls(
                data["text"], data["prompt_tokens"], data["completion_tokens"], float(data["latency_s"])
            )
        except (KeyError, TypeError, ValueError):
            return None
        ok = isinstance(completion.text, str) and all(
            isinstance(count, int) for count in (completion.prompt_tokens, completion.completion_tokens)
        )
        return completion if ok else None


class _Retry(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's Retry-After header, if any."""

    def __init__(self, reason: str, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def endpoint_host(base_url: str) -> str:
    """The host (and port) of ``base_url``, without credentials or path: what evidence records."""
    url = httpx.URL(base_url)
    return f"{url.host}:{url.port}" if url.port else url.host


class ChatClient:
    """POSTs chat completion requests to ``<base_url>/chat/completions``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout_s: float = 120.0,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        connections: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL as error:
            raise EndpointError(f"invalid --base-url {base_url!r}: {error}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise EndpointError(
                f"invalid --base-url {base_url!r}", hint="give the API's root URL, e.g. http://localhost:8080/v1"
            )
        self.url = str(url.copy_with(username=None, password=None)).rstrip("/") + "/chat/completions"
        self._key = api_key
        self._key_env = api_key_env
        self._retry = RetryPolicy(attempts=max_attempts, backoff=backoff_s, max_delay=max_backoff_s)
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            follow_redirects=False,
        )

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def complete(self, body: dict[str, Any]) -> Completion:
        """Send one request (``model``, ``messages``...), retrying transient failures."""
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return self._attempt(body)
            except _Retry as retry:
                if attempt == self._retry.attempts:
                    raise EndpointError(
                        self._redact(f"{self.url}: {retry.reason}; gave up after {attempt} attempts"),
                        hint="rerun later: answers received so far are cached and will not be asked again",
                    ) from None
                self._sleep(self._retry.delay(attempt, retry.retry_after))
        raise AssertionError("unreachable")

    def _attempt(self, body: dict[str, Any]) -> Completion:
        started = time.monotonic()
        try:
            response = self._http.post(self.url, json=body)
        except httpx.ConnectError as error:
            raise EndpointError(
                f"cannot connect to {self.url}: {_reason(error)}",
                hint="is the server running? check --base-url",
            ) from None
        except httpx.TimeoutException:
            raise _Retry("timed out") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            raise _Retry(f"connection dropped ({_reason(error)})") from None
        latency = time.monotonic() - started
        status = response.status_code
        if status in RETRY_STATUS or status >= 500:
            raise _Retry(f"HTTP {status}", response.headers.get("retry-after"))
        if status in (401, 403):
            raise self._auth_error(status)
        if status != 200:
            raise EndpointError(
                self._redact(f"{self.url}: HTTP {status}: {_error_message(response)}"),
                hint="check --base-url (usually ending in /v1) and --model",
            )
        return _parse(response, latency)

    def _auth_error(self, status: int) -> EndpointError:
        if self._key_env:
            return EndpointError(
                f"{self.url} refused the API key in ${self._key_env} (HTTP {status})",
                hint=f"check the key in ${self._key_env} and its access to the model",
            )
        return EndpointError(
            f"{self.url} needs an API key (HTTP {status})",
            hint="pass --api-key-env VAR, naming the environment variable that holds the key",
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _parse(response: httpx.Response, latency: float) -> Completion:
    """Read the first choice's message and the usage; _Retry when the answer is malformed."""
    try:
        data = parse_json(response.content)
    except ValueError as error:
        raise _Retry(f"malformed answer ({error})") from None
    try:
        message = data["choices"][0]["message"]
        content = message.get("content")
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        detail = _error_message(response)
        raise _Retry(f"malformed answer (no choices[0].message){': ' + detail if detail else ''}") from None
    if content is not None and not isinstance(content, str):
        raise _Retry("malformed answer (message content is not text)")
    return Completion(content or "", prompt_tokens, completion_tokens, latency)


def _error_message(response: httpx.Response) -> str:
    """The server's own words: ``error.message`` of a JSON body, else the start of the body."""
    try:
        error = parse_json(response.content).get("error")
        text = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        text = None
    if not isinstance(text, str):
        text = "" if response.headers.get("content-type", "").startswith("application/json") else response.text
    return " ".join(text.split())[:200]


def _reason(error: Exception) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() else (text or type(error).__name__)


def read_api_key(variable: str) -> str:
    """The key in the environment variable ``variable``; EndpointError (naming the variable) when unset."""
    import os

    key = os.environ.get(variable, "").strip()
    if not key:
        raise EndpointError(
            f"--api-key-env {variable}: ${variable} is not set or is empty",
            hint=f"export {variable}=<your key> first",
        )
    return key
