"""PDF rendering: print templates to bytes with WeasyPrint, loading only the app's own files."""

from __future__ import annotations

import logging
import multiprocessing
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcherResponse

from clinic.settings import PROJECT_DIR, TEMPLATES_DIR

log = logging.getLogger(__name__)

PageSize = Literal["A4", "Letter"]
PAGE_SIZES: tuple[str, ...] = get_args(PageSize)

#: The only scheme the renderer loads. It names no host and no real path, so neither
#: the network nor an arbitrary file can be reached through it: "clinic:pdf/print.css"
#: reads templates/pdf/print.css, "clinic:static/img/logo.png" reads clinic/static/img/logo.png.
SCHEME = "clinic"
#: Given to WeasyPrint as the document's base URL. urllib does not resolve relative
#: references against unknown schemes, so a relative URL stays relative and is refused,
#: instead of resolving against the working directory or a file:// base.
BASE_URL = f"{SCHEME}:"

# First path segment of a clinic: URL -> the folder it reads from. A mapping proxy so no
# caller can widen it at run time; tests swap the whole module attribute.
_ROOTS: Mapping[str, Path] = MappingProxyType(
    {
        "static": PROJECT_DIR / "clinic" / "static",
        "pdf": TEMPLATES_DIR / "pdf",
    }
)

# Only stylesheets and images: not templates, not fonts (no web fonts), not anything else
# that might one day be dropped into these folders.
_MEDIA_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ".css": "text/css",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".gif": "image/gif",
        ".svg": "image/svg+xml",
        ".webp": "image/webp",
    }
)


class FetchRefusedError(ValueError):
    """A URL the PDF renderer is not allowed to load."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One of the app's own files, read from disk for the PDF renderer."""

    url: str
    data: bytes
    media_type: str


def fetch_asset(url: str) -> Asset:
    """Read the file a clinic: URL names, or raise FetchRefusedError for any other URL."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise FetchRefusedError(f"malformed URL: {url!r}") from error
    if parts.scheme != SCHEME:
        raise FetchRefusedError(f"only {SCHEME}: URLs are loaded, not {url!r}")
    if parts.netloc or parts.query:
        raise FetchRefusedError(f"{SCHEME}: URLs take a plain path: {url!r}")

    # WeasyPrint percent-encodes URLs before fetching; decode before checking the
    # segments so "%2e%2e" cannot stand in for "..".
    path = unquote(parts.path)
    segments = path.split("/")
    if "\\" in path or "\x00" in path or any(part in ("", ".", "..") for part in segments):
        raise FetchRefusedError(f"path must be relative, without '.' or '..': {url!r}")
    root_name, *rest = segments
    root = _ROOTS.get(root_name)
    if root is None or not rest:
        raise FetchRefusedError(f"not under {', '.join(sorted(_ROOTS))}: {url!r}")
    media_type = _MEDIA_TYPES.get(Path(rest[-1]).suffix.lower())
    if media_type is None:
        raise FetchRefusedError(f"not a stylesheet or image: {url!r}")

    # resolve() follows symlinks, so a link that points out of the folder is caught here.
    real_root = root.resolve()
    target = real_root.joinpath(*rest).resolve()
    if not target.is_relative_to(real_root):
        raise FetchRefusedError(f"leads outside {root_name}/: {url!r}")
    if not target.is_file():
        raise FetchRefusedError(f"no such file: {url!r}")
    return Asset(url=url, data=target.read_bytes(), media_type=media_type)


#: In-memory images for one render (a clinic's logo kept in the database) are named
#: "clinic:<name>" with a bare name: no "/", so one can never stand for a file above.
_MEMORY_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_MEMORY_MEDIA_TYPES = frozenset({"image/png", "image/jpeg", "image/svg+xml"})


def memory_asset(name: str, data: bytes, media_type: str) -> Asset:
    """Wrap image bytes held in memory as clinic:<name>, for one render_pdf call's assets."""
    if not _MEMORY_NAME.fullmatch(name):
        raise ValueError(f"a memory asset needs a bare lowercase name, not {name!r}")
    if media_type not in _MEMORY_MEDIA_TYPES:
        raise ValueError(f"a memory asset must be a PNG, JPEG or SVG image, not {media_type!r}")
    return Asset(url=f"{SCHEME}:{name}", data=bytes(data), media_type=media_type)


class _AssetFetcher:
    """The url_fetcher given to WeasyPrint: serves fetch_asset and refuses everything else."""

    # WeasyPrint 70 reads this attribute of every fetcher. False turns a refused URL into
    # a logged warning and a document without that resource, never a failed render.
    _fail_on_errors = False

    def __init__(self, memory: Sequence[Asset] = ()) -> None:
        # Matched by the exact URL only: no decoding, no resolving, no prefixes.
        self._memory: Mapping[str, Asset] = MappingProxyType({a.url: a for a in memory})

    def __call__(self, url: str) -> Any:
        return self.fetch(url)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """Return the asset in the form this WeasyPrint version expects, or raise."""
        try:
            asset = self._memory.get(url) or fetch_asset(url)
        except FetchRefusedError as error:
            # Shortened: the URL may be anything a template author let through.
            log.warning("PDF renderer refused to load a resource: %.300s", error)
            raise
        return _to_weasyprint_response(asset)


def _to_weasyprint_response(asset: Asset) -> Any:
    return URLFetcherResponse(
        asset.url, asset.data, headers={"Content-Type": asset.media_type}, status=200
    )


_FETCHER = _AssetFetcher()

#: The app's own print stylesheets (under templates/pdf/) for each print template, in
#: cascade order; any other template gets DEFAULT_STYLESHEETS. They are parsed once per
#: process and handed to WeasyPrint already parsed: parsing and compiling the selectors
#: again for every PDF cost about a tenth of a handout's render. Templates still load
#: other clinic: stylesheets with <link>, through the fetcher.
DEFAULT_STYLESHEETS: tuple[str, ...] = ("print.css",)
TEMPLATE_STYLESHEETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"pdf/handout.html": ("print.css", "handout.css")}
)


def stylesheets_for(template: str) -> tuple[str, ...]:
    """Return the names of the print stylesheets a template is rendered with."""
    return TEMPLATE_STYLESHEETS.get(template, DEFAULT_STYLESHEETS)


def stylesheet_text(name: str) -> str:
    """Return one of the app's print stylesheets, read as the fetcher would serve it."""
    return fetch_asset(f"{SCHEME}:pdf/{name}").data.decode("utf-8")


@lru_cache(maxsize=16)
def _parsed_stylesheet(name: str, modified_ns: int) -> CSS:
    # Keyed by the file's modification time as well, so an edited stylesheet is read again.
    return CSS(string=stylesheet_text(name), base_url=BASE_URL, url_fetcher=_FETCHER)


def _stylesheets(names: Sequence[str]) -> list[CSS]:
    folder = _ROOTS["pdf"]
    return [_parsed_stylesheet(name, (folder / name).stat().st_mtime_ns) for name in names]


def render_pdf(
    template: str,
    *,
    title: str,
    author: str,
    page_size: PageSize = "A4",
    created: datetime | None = None,
    assets: Sequence[Asset] = (),
    **values: Any,
) -> bytes:
    """Render a print template to PDF bytes; the same inputs always give the same bytes.

    `template` is a name under templates/ ending in .html (so Jinja autoescapes it),
    normally one extending "pdf/base.html". Call it inside an app context. Pass PLAIN
    values only (strings, numbers, dicts, dataclasses): never ORM objects, whose lazy
    loads would run queries mid-render and whose attributes templates could wander through.

    `title` and `author` become the PDF's /Title and /Author. `created`, an aware
    datetime, becomes its creation and modification dates; without it the PDF carries no
    dates at all. Nothing else varies between runs: WeasyPrint writes no /ID unless asked,
    and names font subsets after a hash of their glyphs.

    The renderer loads only clinic: URLs (see fetch_asset); anything else is logged and
    left out of the document. `assets`, made with memory_asset, add images held in memory
    (such as the clinic's logo) under their clinic:<name> URL for this render only.
    """
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}, not {page_size!r}")
    for asset in assets:
        # Only what memory_asset made: a bare name and an image type.
        memory_asset(asset.url.removeprefix(f"{SCHEME}:"), asset.data, asset.media_type)
    html = render_template(
        template,
        title=title,
        author=author,
        page_size=page_size,
        pdf_created=_w3c_datetime(created) if created is not None else None,
        **values,
    )
    stylesheets = stylesheets_for(template)
    processes = int(current_app.config.get("PDF_RENDER_PROCESSES", 0))
    if processes > 0:
        return _render_in_pool(processes, html, tuple(assets), stylesheets)
    return html_to_pdf(html, tuple(assets), stylesheets)


def html_to_pdf(
    html: str, assets: tuple[Asset, ...] = (), stylesheets: Sequence[str] = DEFAULT_STYLESHEETS
) -> bytes:
    """Lay out rendered print HTML as PDF bytes, loading only clinic: URLs and `assets`.

    `stylesheets` names the app's print stylesheets to apply (see stylesheets_for).
    """
    fetcher = _AssetFetcher(assets) if assets else _FETCHER
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    # Defaults spelled out because they are what keeps handouts small: lossless image
    # optimisation and font subsets rather than whole font files.
    pdf = document.write_pdf(
        stylesheets=_stylesheets(stylesheets),
        optimize_images=True,
        full_fonts=False,
        uncompressed_pdf=False,
    )
    return bytes(pdf)


# Laying out a PDF is a few hundred milliseconds of pure-Python work. Done in a server
# thread it holds the interpreter lock, and every page another therapist opens meanwhile
# waits for it; done in a separate process it runs beside them, on another core. One pool
# per server process, started on the first PDF ("spawn": forking a threaded server is unsafe).
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
RENDER_TIMEOUT_SECONDS = 120


_WARM_UP_HTML = "<p>clinic</p>"
# Warming up parses every print stylesheet too (the order does not matter to the cache).
_ALL_STYLESHEETS = tuple(
    dict.fromkeys([*DEFAULT_STYLESHEETS, *(n for v in TEMPLATE_STYLESHEETS.values() for n in v)])
)


def _get_pool(processes: int) -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
            # Starting a renderer (imports, fonts) takes a second or two: do it now, in the
            # background, rather than in the first therapist's print.
            for _ in range(processes):
                _pool.submit(html_to_pdf, _WARM_UP_HTML, (), _ALL_STYLESHEETS)
        return _pool


def warm_up_renderers() -> None:
    """Start the PDF renderer processes in the background, if the app uses them."""
    processes = int(current_app.config.get("PDF_RENDER_PROCESSES", 0))
    if processes > 0 and _pool is None:
        _get_pool(processes)


def register_renderers(app: Flask) -> None:
    """Start the PDF renderer processes on a server process's first request."""
    # Before a request, not at start-up: CLI commands and migrations never need them.
    app.before_request(warm_up_renderers)


def _render_in_pool(
    processes: int, html: str, assets: tuple[Asset, ...], stylesheets: tuple[str, ...]
) -> bytes:
    global _pool
    pool = _get_pool(processes)
    try:
        return pool.submit(html_to_pdf, html, assets, stylesheets).result(
            timeout=RENDER_TIMEOUT_SECONDS
        )
    except BrokenProcessPool:
        # A renderer died (killed, out of memory): start afresh next time, and still
        # give this therapist the PDF.
        log.warning("a PDF renderer process died; rendering this PDF in the server")
        with _pool_lock:
            if _pool is pool:
                _pool = None
        return html_to_pdf(html, assets, stylesheets)


def shutdown_renderers() -> None:
    """Stop this process's PDF renderer processes (they start again on the next PDF)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


def _w3c_datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("created must be an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
