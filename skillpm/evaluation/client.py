"""A client of the OpenAI chat completions API (llama.cpp, vLLM, Ollama, hosted APIs).

One :class:`ChatClient` (one :class:`~skillpm.registry.transport.Transport`, the
registry's hardened HTTP transport) is shared by the worker threads. Each request
ends by an overall deadline of ``timeout_s`` (``--timeout``: connecting, sending and
the whole answer together, so a server trickling bytes cannot hold it), and an answer
larger than :data:`~skillpm.reading.MAX_ANSWER_SIZE` (decoded) is refused unread.
``complete`` retries what may pass on a second try: HTTP 408, 429 and 5xx, timeouts,
dropped connections and malformed answers, with exponential backoff and jitter, honouring
``Retry-After``, at most ``max_attempts`` times. It raises :class:`EndpointError` at once
for a refused connection, a rejected key (401/403), other 4xx answers and an oversized
answer. Messages name the URL and the key's environment variable, never the key.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import httpcore

from skillpm import __version__
from skillpm.display import clean
from skillpm.errors import IndexFormatError, RegistryError
from skillpm.evaluation.errors import EndpointError
from skillpm.jsonfile import parse_json
from skillpm.reading import MAX_ANSWER_SIZE
from skillpm.registry.redirects import host_of
from skillpm.registry.transport import Deadline, Reply, Transport
from skillpm.retry import RetryPolicy

#: What sets a request's deadline, as errors name it.
TIMEOUT_OPTION = "--timeout"

RETRY_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class Completion:
    """An answer: its text, the tokens the endpoint counted (``None`` when it did not say), and how
    long the request took."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
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
            count is None or (isinstance(count, int) and not isinstance(count, bool) and count >= 0)
            for count in (completion.prompt_tokens, completion.completion_tokens)
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
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def base_url_problem(base_url: str) -> str | None:
    """Why ``base_url`` is no API root to send requests to (in words that never quote what may be a key), or None."""
    root = "give the API's root URL, e.g. http://localhost:8080/v1"
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:  # nor is the error's text: it quotes a port that is not a number, which may be a key
        return f"its host or port cannot be read (an unclosed '[', a port that is not a number in range); {root}"
    if parts.query or parts.fragment or "?" in base_url:
        return (f"it has a query or a fragment, which would go into every request, log and error; {root}, "
                "and the key with --api-key-env")
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or not (base_url.isascii() and base_url.isprintable()):
        shown = f"{parts.scheme}://{host}{parts.path}" if host else parts.scheme or "it"  # never its user:password
        return f"{clean(shown)!r} is not an http(s) URL; {root}"
    return None


def _chat_url(base_url: str) -> str:
    """``<base_url>/chat/completions`` without credentials; EndpointError for a URL that is no API root."""
    problem = base_url_problem(base_url)
    if problem is not None:
        raise EndpointError(f"invalid --base-url: {problem}")
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, "")) + "/chat/completions"


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
        self.url = _chat_url(base_url)
        self._key = api_key
        self._key_env = api_key_env
        self._timeout = timeout_s
        self._retry = RetryPolicy(attempts=max_attempts, backoff=backoff_s, max_delay=max_backoff_s)
        self._sleep = sleep
        self._headers = {"Accept": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self._http = Transport(idle=timeout_s, user_agent=f"skillpm/{__version__}", connections=connections)

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
        host = host_of(self.url)
        try:
            response = self._http.post(
                self.url, json.dumps(body).encode(), headers=self._headers, limit=MAX_ANSWER_SIZE,
                deadline=Deadline.after(self._timeout, TIMEOUT_OPTION),
            )
        except httpcore.ConnectError as error:
            raise EndpointError(
                f"cannot connect to {self.url}: {_reason(error)}",
                hint="is the server running? check --base-url",
            ) from None
        except httpcore.TimeoutException:
            raise _Retry(
                f"timed out: no complete answer from {host} within {self._timeout:g} s "
                f"(set {TIMEOUT_OPTION} to wait longer)"
            ) from None
        except (httpcore.NetworkError, httpcore.RemoteProtocolError) as error:
            raise _Retry(f"connection dropped by {host} ({_reason(error)})") from None
        except (httpcore.ProxyError, httpcore.UnsupportedProtocol, httpcore.LocalProtocolError) as error:
            raise EndpointError(self._redact(f"{self.url}: {_reason(error)}"), hint="check --base-url") from None
        except IndexFormatError:
            raise self._too_large(host) from None
        except RegistryError as error:  # a refused Content-Encoding
            raise EndpointError(self._redact(error.message), hint=error.hint) from None
        latency = time.monotonic() - started
        status = response.status
        if status in RETRY_STATUS or status >= 500:
            raise _Retry(f"HTTP {status}", response.headers.get("retry-after"))
        if status in (401, 403):
            raise self._auth_error(status)
        if status != 200:
            raise EndpointError(
                f"{self.url}: HTTP {status}: {_error_message(response, self._redact)}",
                hint="check --base-url (usually ending in /v1) and --model",
            )
        if len(response.body) > MAX_ANSWER_SIZE:
            raise self._too_large(host)
        return _parse(response, latency, self._redact)

    def _too_large(self, host: str) -> EndpointError:
        return EndpointError(
            f"{self.url}: the answer from {host} is larger than {MAX_ANSWER_SIZE // (1024 * 1024)} MiB; refused",
            hint="check --base-url and --max-tokens",
        )

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
        """``text`` without the key, nor a word that is 8 or more of its characters (an echo cut to a prefix)
        or holds 12 of them in a row (an echo glued to other text)."""
        if not self._key:
            return text
        key = self._key
        pieces = {key[start:start + 12] for start in range(max(len(key) - 11, 0))}

        def hidden(run: re.Match[str]) -> str:
            word = run.group()
            return "***" if word in key or any(piece in word for piece in pieces) else word

        return _KEY_LIKE_RE.sub(hidden, text.replace(key, "***"))


_KEY_LIKE_RE = re.compile(r"[A-Za-z0-9_-]{8,}")  # what API keys are made of (sk-proj-..., hf_...)


def _parse(response: Reply, latency: float, redact: Callable[[str], str]) -> Completion:
    """Read the first choice's message and the usage; _Retry when the answer is malformed."""
    try:
        data = parse_json(response.body)
    except ValueError as error:
        raise _Retry(f"malformed answer ({error})") from None
    try:
        message = data["choices"][0]["message"]
        content = message.get("content")
        usage = data.get("usage") or {}
        counts = usage.get("prompt_tokens"), usage.get("completion_tokens")
    except (KeyError, IndexError, TypeError, AttributeError):
        detail = _error_message(response, redact)
        raise _Retry(f"malformed answer (no choices[0].message){': ' + detail if detail else ''}") from None
    try:
        prompt_tokens, completion_tokens = _count(counts[0]), _count(counts[1])
    except ValueError as error:
        raise _Retry(f"malformed answer ({error})") from None
    if content is not None and not isinstance(content, str):
        raise _Retry("malformed answer (message content is not text)")
    return Completion(content or "", prompt_tokens, completion_tokens, latency)


#: Token counts are below 2**53, where a float stops holding every integer: no answer has more tokens,
#: and evidence holds every count as a number any JSON reader (skillpm's own at publish too) takes.
MAX_TOKENS = 2**53


def _count(value: Any) -> int | None:
    """A token count from ``usage``; ``None`` when the endpoint did not give one (never 0 for "unknown")."""
    if value is None:
        return None
    count = int(value) if isinstance(value, float) and value.is_integer() else value
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count < MAX_TOKENS:
        raise ValueError(f"token count {value!r} is not a count")
    return count


def _error_message(response: Reply, redact: Callable[[str], str]) -> str:
    """The server's own words (``error.message`` of a JSON body, else the start of the body), redacted
    by ``redact`` before they are cut short, so no part of the key survives."""
    try:
        error = parse_json(response.body).get("error")
        text = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        text = None
    if not isinstance(text, str):
        text = "" if response.headers.get("content-type", "").startswith("application/json") else response.body.decode(
            "utf-8", "replace"
        )
    return clean(redact(" ".join(text.split())), 200)


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
