"""The injection corpus in every PDF: printed as literal text, and nothing fetched from outside."""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from clinic import pdf
from tests.injection_payloads import PAYLOADS, PDF_PAYLOADS, REMOTE_HOST, Corpus, save_corpus

SCREENSHOT_DIR = Path(__file__).resolve().parent / "browser" / "screenshots"
MM = 72 / 25.4
# The page margins of templates/pdf/print.css, in points.
TOP_MARGIN, BOTTOM_MARGIN = 16 * MM, 13 * MM

CLINIC = ("ClinicSettingsForm.name", "ClinicSettingsForm.address", "SetupForm.owner_name")
CLIENT = ("IntakeForm.first_name", "IntakeForm.last_name")
NOTE = (
    *CLINIC, *CLIENT, "VisitForm.subjective", "VisitForm.palpation", "VisitForm.assessment",
    "VisitForm.plan", "VisitForm.adverse_note", "EntryForm.note", "EntryForm.override_reason",
    "AddendumForm.reason", "AddendumForm.text",
)  # fmt: skip
HANDOUT = (
    *CLINIC, *CLIENT, "PlanForm.note", "PlanRowForm.note", "LibraryItemForm.title",
    "LibraryItemForm.purpose", "LibraryItemForm.steps", "LibraryItemForm.cautions",
)  # fmt: skip

# The endpoint of every PDF the app makes, the URL of one with the corpus, what it must print.
PDFS: dict[str, tuple[str, tuple[str, ...]]] = {
    "visits.note_pdf": ("/clients/{c.client_id}/visits/{c.signed_visit_id}/note.pdf", NOTE),
    "visits.aftercare_pdf": (
        "/clients/{c.client_id}/visits/{c.signed_visit_id}/aftercare.pdf",
        ("ClinicSettingsForm.name", *CLIENT),
    ),
    "homecare.preview": ("/clients/{c.client_id}/homecare/{c.plan_id}/preview.pdf", HANDOUT),
    "homecare.handout": ("/clients/{c.client_id}/homecare/handouts/{c.handout_id}.pdf", HANDOUT),
}


def squash(text: str) -> str:
    """Drop all whitespace: line wrapping puts breaks where the typing had spaces."""
    return "".join(text.split())


def plain_parts(value: str) -> list[str]:
    """Split a saved value around the payloads a PDF's text layer cannot keep exactly."""
    parts = [value]
    for payload in PAYLOADS:
        if payload not in PDF_PAYLOADS:
            parts = [piece for part in parts for piece in part.split(payload)]
    return [squash(part) for part in parts if squash(part)]


def body_text(reader: PdfReader) -> str:
    """Return the text of every page without its running header and page number.

    The header repeats the names cut to two lines; it would also split a paragraph that
    runs on to the next page. Only text between the page's top and bottom margins is kept.
    """
    parts: list[str] = []
    for page in reader.pages:
        top = float(page.mediabox.height) - TOP_MARGIN

        def keep(text: str, cm: Any, tm: Any, font: Any, size: Any, top: float = top) -> None:
            baseline = cm[5] + tm[5] * cm[3]
            if BOTTOM_MARGIN < baseline < top:
                parts.append(text)

        page.extract_text(visitor_text=keep)
    return "".join(parts)


def link_targets(reader: PdfReader) -> list[str]:
    """Return every URI a link annotation of the PDF points to."""
    targets = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if "/URI" in action:
                targets.append(str(action["/URI"]))
    return targets


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL WeasyPrint asks the app's fetcher for, whatever the answer."""
    urls: list[str] = []
    original = pdf._AssetFetcher.fetch

    def record(self: Any, url: str, headers: Any = None) -> Any:
        urls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(pdf._AssetFetcher, "fetch", record)
    return urls


def test_every_pdf_prints_the_corpus_as_text_and_fetches_nothing(
    app: Any, client: Any, fetched: list[str]
) -> None:
    corpus: Corpus = save_corpus(app, client)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.endswith(".pdf")}
    assert endpoints == set(PDFS), "a new PDF: add it to PDFS with the fields it prints"

    for endpoint, (url_pattern, keys) in PDFS.items():
        url = url_pattern.format(c=corpus)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "application/pdf"
        reader = PdfReader(BytesIO(response.data))
        text = squash(body_text(reader))
        for key in keys:
            for part in plain_parts(corpus.values[key]):
                assert part in text, f"{endpoint}: {key} is not printed literally: {part!r}"
        # Every payload saved into a field this PDF prints must come out as text.
        printed = [p for p in PDF_PAYLOADS if any(p in corpus.values[key] for key in keys)]
        assert printed, f"{endpoint}: none of its fields holds a payload"
        for payload in printed:
            assert squash(payload) in text, f"{endpoint}: {payload!r} is not printed"
        # An image or a link from a payload would mean it was read as markup.
        assert not any(page.images for page in reader.pages), f"{endpoint} has an image"
        assert not link_targets(reader), f"{endpoint} links to {link_targets(reader)}"
        if endpoint == "homecare.handout":
            save_first_page(response.data, "72-injection-handout")

    assert fetched, "the recording fetcher was not called: the test would miss a fetch"
    outside = [url for url in fetched if not url.startswith(f"{pdf.SCHEME}:")]
    assert not outside, f"the PDF renderer was asked for {outside}"
    assert not [url for url in fetched if REMOTE_HOST in url]


def save_first_page(data: bytes, name: str) -> None:
    """Keep the PDF and a small picture of its first page beside the browser screenshots."""
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.pdf"
    path.write_bytes(data)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        subprocess.run(
            [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path),
             str(SCREENSHOT_DIR / name)],
            check=True,
            timeout=60,
        )  # fmt: skip
