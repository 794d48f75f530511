"""Checking a clinic's logo upload: a real PNG or JPEG, by content, small enough to print."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from clinic.domain.errors import RuleViolations

MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_SIDE = 2000
MIN_LOGO_SIDE = 16
_UNREADABLE = "This image could not be read. It may be damaged: save it again and retry."

# The file's first bytes decide, never its name or the browser's Content-Type.
_SIGNATURES: dict[bytes, tuple[str, str]] = {
    b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"),
    b"\xff\xd8\xff": ("JPEG", "image/jpeg"),
}
# How each format ends. WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process,
# so a file cut short would decode without complaint: its last bytes are checked instead.
_ENDINGS = {"PNG": b"IEND\xaeB`\x82", "JPEG": b"\xff\xd9"}


@dataclass(frozen=True)
class CheckedLogo:
    """An image that passed every check, with its type and size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int


def check_logo(data: bytes) -> CheckedLogo:
    """Return the upload as a checked logo, or raise RuleViolations on the logo field."""
    if not data:
        raise RuleViolations.one("logo", "Choose a PNG or JPEG image to upload.")
    if len(data) > MAX_LOGO_BYTES:
        raise RuleViolations.one(
            "logo", "The image is larger than 1 MB. Save a smaller copy and upload that."
        )
    kind = next((k for signature, k in _SIGNATURES.items() if data.startswith(signature)), None)
    if kind is None:
        raise RuleViolations.one("logo", "This file is not a PNG or JPEG image.")
    image_format, media_type = kind
    if not data.rstrip(b"\x00\r\n ").endswith(_ENDINGS[image_format]):
        raise RuleViolations.one("logo", _UNREADABLE)
    try:
        with warnings.catch_warnings():
            # Pillow warns of decompression bombs; the side limit below refuses them anyway.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=[image_format]) as image:
                width, height = image.size
                if max(width, height) > MAX_LOGO_SIDE:
                    raise RuleViolations.one(
                        "logo",
                        f"The image is {width} by {height} pixels. Use one at most"
                        f" {MAX_LOGO_SIDE} pixels wide and high.",
                    )
                if min(width, height) < MIN_LOGO_SIDE:
                    raise RuleViolations.one(
                        "logo", f"The image is too small to print: at least {MIN_LOGO_SIDE} pixels."
                    )
                # verify() checks a PNG's chunk checksums; decoding every pixel then catches
                # damage inside either format.
                image.verify()
            with Image.open(BytesIO(data), formats=[image_format]) as image:
                image.load()
    except RuleViolations:
        raise
    except Image.DecompressionBombError:
        raise RuleViolations.one(
            "logo",
            f"The image has far too many pixels. Use one at most {MAX_LOGO_SIDE} pixels"
            " wide and high.",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise RuleViolations.one("logo", _UNREADABLE) from None
    return CheckedLogo(data=data, media_type=media_type, width=width, height=height)
