"""The clinic's logo: a real PNG or JPEG, checked by content and size; owner only."""

from __future__ import annotations

import os
import zlib
from io import BytesIO

import pytest
from PIL import Image

from clinic.domain.errors import RuleViolations
from clinic.extensions import db
from clinic.homecare.logo import MAX_LOGO_BYTES, check_logo
from clinic.models import Clinic
from tests.auth import field_errors, flashes, location, page


def png_bytes(width: int = 200, height: int = 80, *, noisy: bool = False) -> bytes:
    """Return a real PNG image; noisy ones hardly compress, to make large files."""
    image = Image.new("RGB", (width, height), "navy")
    if noisy:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 200, height: int = 80) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


def load_clinic(app, clinic_id: int) -> Clinic:
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        _ = clinic.logo
        db.session.expunge(clinic)
        return clinic


def upload(client, data: bytes, name: str = "logo.png"):
    return client.post("/admin/clinic/logo", data={"logo": (BytesIO(data), name)})


@pytest.mark.parametrize(
    ("data", "media_type"), [(png_bytes(), "image/png"), (jpeg_bytes(), "image/jpeg")]
)
def test_a_real_png_or_jpeg_is_accepted(app, owner, clinic_world, data, media_type):
    response = upload(owner, data, "logo.img")
    assert location(response) == "/admin/clinic"
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert clinic.logo == data
    assert clinic.logo_media_type == media_type
    assert (clinic.logo_width, clinic.logo_height) == (200, 80)
    html = page(owner.get("/admin/clinic"))
    assert "The logo was saved." in " ".join(flashes(html))
    assert f'src="data:{media_type};base64,' in html
    assert load_clinic(app, clinic_world.b.clinic_id).logo is None


def small_png_header_claiming(width: int, height: int, *, fix_crc: bool = True) -> bytes:
    """A small PNG whose header claims a huge size: a decompression bomb's first bytes."""
    real = png_bytes(20, 20)
    # The IHDR chunk: length (8-12), type (12-16), width and height (16-24), then 5 bytes and CRC.
    ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + real[24:29]
    crc = zlib.crc32(ihdr).to_bytes(4, "big") if fix_crc else real[29:33]
    return real[:12] + ihdr + crc + real[33:]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"Just some words, not a picture.\n", "logo.png", "This file is not a PNG or JPEG image."),
        (b"GIF89a" + b"\x00" * 100, "logo.gif", "This file is not a PNG or JPEG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "not a PNG or JPEG"),
        (png_bytes(100, 100, noisy=True)[:5000], "cut.png", "could not be read"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "fake.png", "could not be read"),
        (png_bytes(2400, 100), "wide.png", "Use one at most 2000 pixels"),
        (small_png_header_claiming(60000, 60000), "bomb.png", "at most 2000 pixels wide and high"),
        (small_png_header_claiming(900, 900, fix_crc=False), "bad-crc.png", "could not be read"),
        (png_bytes(8, 8), "tiny.png", "too small to print"),
        (png_bytes(700, 700, noisy=True), "big.png", "larger than 1 MB"),
        (b"", "empty.png", "Choose a PNG or JPEG image"),
    ],
    ids=["text", "gif", "svg", "cut", "fake", "wide", "bomb", "bad-crc", "tiny", "big", "empty"],
)
def test_anything_else_is_refused_beside_the_field(app, owner, clinic_world, data, name, message):
    response = upload(owner, data, name)
    assert response.status_code == 200
    errors = field_errors(page(response), "logo")
    assert errors and message in errors[0], errors
    assert load_clinic(app, clinic_world.a.clinic_id).logo is None


def test_the_oversized_file_really_is_over_the_limit():
    assert len(png_bytes(700, 700, noisy=True)) > MAX_LOGO_BYTES


def test_no_file_at_all_is_refused(app, owner, clinic_world):
    response = owner.post("/admin/clinic/logo", data={})
    assert field_errors(page(response), "logo") == ["Choose a PNG or JPEG image to upload."]


def test_the_logo_can_be_removed(app, owner, clinic_world):
    upload(owner, png_bytes())
    assert owner.post("/admin/clinic/logo/remove").status_code == 302
    clinic = load_clinic(app, clinic_world.a.clinic_id)
    assert (clinic.logo, clinic.logo_media_type, clinic.logo_width) == (None, None, None)


def test_therapists_cannot_change_the_logo(app, logged_in, clinic_world):
    assert upload(logged_in, png_bytes()).status_code == 403
    assert logged_in.post("/admin/clinic/logo/remove").status_code == 403
    assert load_clinic(app, clinic_world.a.clinic_id).logo is None


def test_check_logo_refuses_by_content_not_name():
    with pytest.raises(RuleViolations) as caught:
        check_logo(b"%PDF-1.7 not an image")
    assert caught.value.field == "logo"
    assert check_logo(png_bytes()).media_type == "image/png"
