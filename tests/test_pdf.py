"""PDF rendering: content, metadata, page layout, fonts, the deny-all fetcher, same bytes."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from clinic import pdf as pdf_module
from clinic.pdf import Asset, FetchRefusedError, fetch_asset, memory_asset, render_pdf
from clinic.settings import PROJECT_DIR, TEMPLATES_DIR

TEST_TEMPLATES = Path(__file__).parent / "templates_pdf"

SAMPLE: dict[str, Any] = {
    "title": "Home care: right knee",
    "author": "Dana Reyes, LMT",
    "client": {"name": "Alex Morgan"},
    "exercises": ["Quad sets, 10 slow repeats", "Heel slides, 10 repeats"],
    "warning": "Stop if the knee turns hot, red or swollen.",
    "notes": "Ice for 10 minutes after walking.",
}

# Both run in a subprocess too, to compare bytes across interpreter runs.
RENDER_SCRIPT = """
import sys
from jinja2 import ChoiceLoader, FileSystemLoader
from clinic import create_app
from clinic.pdf import render_pdf
from tests.test_pdf import SAMPLE, TEST_TEMPLATES
app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://", "PDF_RENDER_PROCESSES": 0})
app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(TEST_TEMPLATES)])
with app.app_context():
    sys.stdout.buffer.write(render_pdf("pdf_test/sample.html", **SAMPLE))
"""


@pytest.fixture
def pdf_app(app: Flask) -> Flask:
    """The app, also finding the test-only print templates."""
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, FileSystemLoader(TEST_TEMPLATES)]  # type: ignore[list-item]
    )
    return app


def render(app: Flask, template: str = "pdf_test/sample.html", **overrides: Any) -> bytes:
    """Render a test template inside an app context, with SAMPLE's values by default."""
    values = {**SAMPLE, **overrides}
    with app.app_context():
        return render_pdf(template, **values)


def page_texts(pdf: bytes) -> list[str]:
    """Return each page's text with whitespace collapsed, so line wraps do not matter."""
    reader = PdfReader(BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def as_dict(value: Any) -> DictionaryObject:
    """Follow an indirect reference to the dictionary behind it."""
    resolved = value.get_object()
    assert isinstance(resolved, DictionaryObject)
    return resolved


def squash(text: str) -> str:
    """Remove all whitespace, for text long enough that the layout may break it anywhere."""
    return "".join(text.split())


# ---------------------------------------------------------------- content and layout


def test_values_appear_as_text(pdf_app: Flask) -> None:
    (text,) = page_texts(render(pdf_app))
    for value in (
        "Home care: right knee",
        "Client: Alex Morgan",
        "Quad sets, 10 slow repeats",
        "Heel slides, 10 repeats",
        "Stop if the knee turns hot, red or swollen.",
        "Ice for 10 minutes after walking.",
    ):
        assert value in text


def test_title_and_author_are_pdf_metadata(pdf_app: Flask) -> None:
    metadata = PdfReader(BytesIO(render(pdf_app))).metadata
    assert metadata is not None
    assert metadata.title == "Home care: right knee"
    assert metadata.author == "Dana Reyes, LMT"


@pytest.mark.parametrize(("page_size", "expected"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_page_size(pdf_app: Flask, page_size: str, expected: tuple[int, int]) -> None:
    # The sizes are set in print.css, so this also shows the stylesheet was loaded.
    page = PdfReader(BytesIO(render(pdf_app, page_size=page_size))).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == expected


def test_unknown_page_size_is_refused(pdf_app: Flask) -> None:
    with pytest.raises(ValueError, match="page_size"):
        render(pdf_app, page_size="Legal")


def test_page_numbers_and_header_on_every_page(pdf_app: Flask) -> None:
    first, second = page_texts(render(pdf_app, second_page="More notes on page two."))
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert "More notes on page two." in second
    # The header block repeats, so a loose sheet still names the client.
    for text in (first, second):
        assert "Alex Morgan · Home care: right knee" in text


def test_fonts_are_embedded_subsets(pdf_app: Flask) -> None:
    reader = PdfReader(BytesIO(render(pdf_app)))
    fonts: dict[str, DictionaryObject] = {}
    for page in reader.pages:
        resources = as_dict(page["/Resources"])
        for reference in as_dict(resources["/Font"]).values():
            font = as_dict(reference)
            fonts[str(font["/BaseFont"])] = font
    assert fonts
    for name, font in fonts.items():
        if "/DescendantFonts" in font:
            font = as_dict(font["/DescendantFonts"][0])  # type: ignore[index]
        descriptor = as_dict(font["/FontDescriptor"])
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), name
        # "ABCDEF+Name" marks a subset: only the glyphs used, so handouts stay small.
        assert name[7:8] == "+", name
        assert "DejaVu" in name, name


# ---------------------------------------------------------------- nothing is fetched


@dataclass
class TrapServer:
    """A real HTTP server on 127.0.0.1 that records every request it gets."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def trap_server() -> Iterator[TrapServer]:
    """Serve a stylesheet that would print LEAKED-HTTP if it were ever loaded."""
    trap = TrapServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            trap.hits.append(self.path)
            body = b'main::after { content: "LEAKED-HTTP"; }'
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    trap.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield trap
    server.shutdown()
    server.server_close()
    thread.join()


def assert_trap_was_live(trap: TrapServer) -> None:
    """Show the server did answer, so zero hits during the render means something."""
    with urllib.request.urlopen(trap.url + "probe", timeout=5) as response:  # noqa: S310
        assert b"LEAKED-HTTP" in response.read()
    assert trap.hits == ["/probe"]


def hostile_values(trap: TrapServer) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        '<link rel=stylesheet href="http://127.0.0.1:9/x.css">',
        '<p style="background: url(file:///etc/hostname)">styled</p>',
        f'<img src="{trap.url}typed.png">',
        f"<style>@import url({trap.url}typed.css);</style>",
        f'<base href="{trap.url}">',
    ]


def test_typed_markup_is_printed_literally_and_never_fetched(
    pdf_app: Flask, trap_server: TrapServer, caplog: pytest.LogCaptureFixture
) -> None:
    values = hostile_values(trap_server)
    caplog.set_level(logging.WARNING, logger="clinic.pdf")
    pdf = render(
        pdf_app,
        title=values[0],
        author=values[1],
        client={"name": values[2]},
        exercises=values[3:],
        warning=values[4],
        notes=values[1],
    )
    text = squash(" ".join(page_texts(pdf)))
    for value in values:
        assert squash(value) in text
    assert "LEAKED" not in text
    assert trap_server.hits == []
    # Escaped markup is text, so the renderer never even asked for a URL.
    assert not [r for r in caplog.records if r.name == "clinic.pdf"]
    metadata = PdfReader(BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == values[0]
    assert metadata.author == values[1]
    assert_trap_was_live(trap_server)


def test_urls_a_template_lets_through_are_refused(
    pdf_app: Flask, trap_server: TrapServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    leak_css = tmp_path / "leak.css"
    leak_css.write_text('main::after { content: "LEAKED-FILE"; }', encoding="utf-8")
    stylesheet_urls = [
        leak_css.as_uri(),
        f"{trap_server.url}x.css",
        "http://127.0.0.1:9/x.css",
        # Relative URLs would resolve against the templates folder or the working
        # directory if the base URL allowed it.
        "print.css",
        "../../../" + str(leak_css).lstrip("/"),
    ]
    image_urls = [
        "file:///etc/passwd",
        f"{trap_server.url}x.png",
        "https://127.0.0.1:9/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ]
    background_url = "file:///etc/hostname"
    caplog.set_level(logging.WARNING, logger="clinic.pdf")

    pdf = render(
        pdf_app,
        "pdf_test/careless.html",
        stylesheet_urls=stylesheet_urls,
        image_urls=image_urls,
        background_url=background_url,
    )

    (text,) = page_texts(pdf)
    assert "Rendered to the end." in text  # refusals are logged, the render goes on
    assert "Page 1 of 1" in text  # while the allowed print.css still loaded
    assert "LEAKED" not in text
    assert trap_server.hits == []
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "clinic.pdf")
    for url in [*stylesheet_urls, *image_urls, background_url]:
        assert url[:40] in refused
    assert_trap_was_live(trap_server)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.org/print.css",
        "ftp://example.org/print.css",
        "data:text/css,body{}",
        "print.css",
        "../templates/pdf/print.css",
        "/etc/passwd",
        "clinic:/etc/passwd",
        "clinic://localhost/pdf/print.css",
        "clinic:pdf/print.css?v=1",
        "clinic:pdf/../pdf/print.css",
        "clinic:pdf/./print.css",
        "clinic:pdf//print.css",
        "clinic:static/../../templates/pdf/print.css",
        "clinic:pdf/%2e%2e/%2e%2e/clinic/static/css/app.css",
        "clinic:pdf/..%2f..%2fclinic/static/css/app.css",
        "clinic:pdf\\..\\print.css",
        "clinic:pdf/print.css\x00.png",
        "clinic:pdf/base.html",
        "clinic:pdf/missing.css",
        "clinic:pdf",
        "clinic:pdf/",
        "clinic:instance/secret_key.css",
        "clinic:",
        "clinic-static:pdf/print.css",
    ],
)
def test_fetcher_refuses(url: str) -> None:
    with pytest.raises(FetchRefusedError):
        fetch_asset(url)


@pytest.mark.parametrize(
    ("url", "path", "media_type"),
    [
        ("clinic:pdf/print.css", TEMPLATES_DIR / "pdf" / "print.css", "text/css"),
        ("clinic:static/css/app.css", PROJECT_DIR / "clinic/static/css/app.css", "text/css"),
        (
            "clinic:static/img/favicon.svg#icon",
            PROJECT_DIR / "clinic/static/img/favicon.svg",
            "image/svg+xml",
        ),
    ],
)
def test_fetcher_serves_the_apps_own_files(url: str, path: Path, media_type: str) -> None:
    asset = fetch_asset(url)
    assert asset.data == path.read_bytes()
    assert asset.media_type == media_type


def test_fetcher_refuses_symlinks_that_leave_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "inside.css").write_text("p {}", encoding="utf-8")
    outside = tmp_path / "outside.css"
    outside.write_text("secret {}", encoding="utf-8")
    (static / "css" / "escape.css").symlink_to(outside)
    (static / "alias").symlink_to(tmp_path)
    (static / "css" / "alias.css").symlink_to(static / "css" / "inside.css")
    monkeypatch.setattr(pdf_module, "_ROOTS", MappingProxyType({"static": static}))

    with pytest.raises(FetchRefusedError, match="outside"):
        fetch_asset("clinic:static/css/escape.css")
    with pytest.raises(FetchRefusedError, match="outside"):
        fetch_asset("clinic:static/alias/outside.css")
    assert fetch_asset("clinic:static/css/alias.css").data == b"p {}"


# ---------------------------------------------------------------- same inputs, same bytes


def test_same_inputs_give_the_same_bytes(pdf_app: Flask) -> None:
    first = render(pdf_app, second_page="Two pages.")
    assert render(pdf_app, second_page="Two pages.") == first
    assert render(pdf_app, second_page="Other words.") != first


def test_no_dates_unless_given_and_then_fixed(pdf_app: Flask) -> None:
    undated = PdfReader(BytesIO(render(pdf_app))).metadata
    assert undated is not None
    assert "/CreationDate" not in undated
    assert "/ModDate" not in undated

    issued = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    dated = render(pdf_app, created=issued)
    assert render(pdf_app, created=issued) == dated
    metadata = PdfReader(BytesIO(dated)).metadata
    assert metadata is not None
    assert metadata.creation_date == issued
    assert metadata.modification_date == issued


def test_naive_created_is_refused(pdf_app: Flask) -> None:
    with pytest.raises(ValueError, match="aware"):
        render(pdf_app, created=datetime(2025, 3, 4, 9, 30))


def test_same_bytes_in_another_interpreter(pdf_app: Flask) -> None:
    # Another process with another hash seed: nothing may depend on hash() or memory.
    here = render(pdf_app)
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(PROJECT_DIR)}
    there = subprocess.run(
        [sys.executable, "-c", RENDER_SCRIPT],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    assert there == here


# ---------------------------------------------------------------- in-memory images (the logo)


def tiny_png() -> bytes:
    """Return a real 4 by 4 PNG."""
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 4), "black").save(buffer, "PNG")
    return buffer.getvalue()


def drawn_images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(BytesIO(pdf)).pages[:1])


def test_a_memory_asset_is_served_for_its_render_only(
    pdf_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="clinic.pdf")
    logo = memory_asset("logo", tiny_png(), "image/png")
    assert logo.url == "clinic:logo"
    with_logo = render(pdf_app, "pdf_test/memory.html", assets=[logo])
    assert drawn_images(with_logo) == 1
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "clinic.pdf")
    assert "clinic:not-given" in refused
    assert "clinic:logo" not in refused
    caplog.clear()
    # The next render without it gets nothing: no cache, no module state.
    without = render(pdf_app, "pdf_test/memory.html")
    assert drawn_images(without) == 0
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "clinic.pdf")
    assert "clinic:logo" in refused
    assert "Rendered to the end." in page_texts(without)[0]


@pytest.mark.parametrize(
    "name", ["", "Logo", "../logo", "pdf/print.css", "logo.png", "a b", "x" * 41, "-logo"]
)
def test_memory_asset_names_are_bare(name: str) -> None:
    with pytest.raises(ValueError, match="bare lowercase name"):
        memory_asset(name, tiny_png(), "image/png")


@pytest.mark.parametrize("media_type", ["text/css", "text/html", "application/pdf", ""])
def test_memory_assets_are_images(media_type: str) -> None:
    with pytest.raises(ValueError, match="PNG, JPEG or SVG"):
        memory_asset("logo", b"body {}", media_type)


@pytest.mark.parametrize(
    "asset",
    [
        Asset(url="file:///etc/passwd", data=b"x", media_type="image/png"),
        Asset(url="clinic:pdf/print.css", data=b"body {}", media_type="text/css"),
        Asset(url="clinic:pdf/x.png", data=b"x", media_type="image/png"),
        Asset(url="http://127.0.0.1/logo", data=b"x", media_type="image/png"),
    ],
)
def test_render_pdf_takes_only_memory_assets(pdf_app: Flask, asset: Asset) -> None:
    with pytest.raises(ValueError, match="memory asset"):
        render(pdf_app, "pdf_test/memory.html", assets=[asset])


# ---------------------------------------------------------------- renderer processes


def test_renderer_processes_give_the_same_bytes(pdf_app: Flask) -> None:
    logo = memory_asset("logo", tiny_png(), "image/png")
    here = render(pdf_app, second_page="Two pages.")
    here_with_logo = render(pdf_app, "pdf_test/memory.html", assets=[logo])
    pdf_app.config["PDF_RENDER_PROCESSES"] = 1
    try:
        assert render(pdf_app, second_page="Two pages.") == here
        # The in-memory logo travels to the renderer process with its render.
        assert render(pdf_app, "pdf_test/memory.html", assets=[logo]) == here_with_logo
        assert pdf_module._pool is not None
    finally:
        pdf_module.shutdown_renderers()
    assert pdf_module._pool is None


def test_a_dead_renderer_process_still_gives_the_pdf(
    pdf_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DeadPool:
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            raise BrokenProcessPool("the renderer was killed")

    here = render(pdf_app)
    pdf_app.config["PDF_RENDER_PROCESSES"] = 1
    monkeypatch.setattr(pdf_module, "_pool", DeadPool())
    assert render(pdf_app) == here
    # The dead pool is dropped, so the next PDF starts a fresh one.
    assert pdf_module._pool is None


def test_renderer_processes_start_with_the_first_request(pdf_app: Flask) -> None:
    client = pdf_app.test_client()
    client.get("/login")
    assert pdf_module._pool is None  # the tests render in their own process
    pdf_app.config["PDF_RENDER_PROCESSES"] = 1
    try:
        client.get("/login")
        assert pdf_module._pool is not None
        started = pdf_module._pool
        client.get("/login")
        assert pdf_module._pool is started
    finally:
        pdf_module.shutdown_renderers()
