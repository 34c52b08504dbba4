"""What a Redis URL may say, and how it is shown: shared by every URL form pykue reads."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from .exceptions import ConfigurationError

#: The client options a URL may carry in its query (as redis-py reads them).
CLIENT_OPTIONS = frozenset(
    {
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "health_check_interval",
        "retry_on_timeout",
        "max_connections",
        "client_name",
        "username",
        "password",
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_certfile",
        "ssl_keyfile",
        "db",
        "protocol",
        "encoding",
    }
)


def check_options(url: str, options: dict[str, str] | list[tuple[str, str]]) -> None:
    names = set(options) if isinstance(options, dict) else {name for name, _ in options}
    unknown = names - CLIENT_OPTIONS
    if unknown:
        raise ConfigurationError(f"unknown option(s) {sorted(unknown)} in redis URL {redact(url)!r}")


DURABILITY_OPTIONS = ("durable_replicas", "durable_timeout_ms")


def split_durability(url: str) -> tuple[str, dict[str, int]]:
    """The URL without ``durable_replicas``/``durable_timeout_ms``, and their values: options
    of pykue's, not of the connection, so that ``--redis`` and ``$PYKUE_REDIS_URL`` can ask
    for durable writes too."""
    head, mark, query = url.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    found = {name: value for name, value in pairs if name in DURABILITY_OPTIONS}
    if not found:
        return url, {}
    rest = "&".join(f"{name}={value}" for name, value in pairs if name not in DURABILITY_OPTIONS)
    values = {}
    for name, value in found.items():
        if not (value.isascii() and value.isdigit()):
            raise ConfigurationError(f"redis URL {redact(url)!r}: {name} must be a whole number, not {value!r}")
        values[name] = int(value)
    return head + (mark + rest if rest else ""), values


def redact(url: str) -> str:
    """The URL with its passwords masked: messages about a URL end up in logs."""
    head, mark, query = url.partition("?")
    netloc = urlsplit(head).netloc
    if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:
        userinfo = netloc.rsplit("@", 1)[0]
        head = head.replace(f"//{userinfo}@", f"//{userinfo.split(':', 1)[0]}:***@", 1)
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name.endswith("password") for name, _ in pairs):
        query = "&".join(f"{name}={'***' if name.endswith('password') else value}" for name, value in pairs)
    return head + mark + query
