"""URL normalisation: one spelling per page (no fragment, no tracking parameters, no trailing slash)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = ("utm_", "gclid", "fbclid", "mc_cid", "mc_eid", "_ga")


def normalize(url: str, base: str | None = None) -> str | None:
    """Absolute, normalised http(s) URL, or None for mailto:, tel:, javascript: and the like."""
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    port = parts.port
    netloc = host if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not k.lower().startswith(TRACKING_PARAMS)])
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def rebase(url: str, new_origin: str) -> str:
    """The same path and query on another origin (canonical site URL -> the host being crawled)."""
    return new_origin.rstrip("/") + path_and_query(url)
