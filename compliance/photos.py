"""Photos that come with a report: checked, decoded, and stripped of every piece of metadata.

A photo is accepted when it is JPEG, PNG or WebP by its own bytes (not by the name or the
browser's word), at most ``MAX_BYTES``, at most ``MAX_PIXELS``, and decodes whole with Pillow.
What is stored is a new image made from the decoded pixels only (turned upright first, as the
camera's orientation tag said): no EXIF, no GPS location, no camera serial, no comments, no
embedded thumbnails. JPEG and WebP are stored as JPEG, PNG as PNG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PHOTOS = 5
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "jpg"}


class PhotoRefused(ValueError):
    """The photo cannot be taken; the message says why, in words for the person sending it."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    suffix: str
    content_type: str
    width: int
    height: int


def clean(data: bytes, *, name: str = "the photo") -> CleanPhoto:
    """The photo re-encoded from its pixels alone, or PhotoRefused with the reason."""
    if not data:
        raise PhotoRefused(f"{name} is empty")
    if len(data) > MAX_BYTES:
        raise PhotoRefused(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                if kind not in FORMATS:
                    raise PhotoRefused(f"{name} is not a JPEG, PNG or WebP picture")
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoRefused(f"{name} has too many pixels")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image) or image
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(f"{name} is not a picture we can open") from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRefused(f"{name} is damaged or incomplete") from None
    suffix = FORMATS[kind]
    mode = "RGBA" if suffix == "png" and upright.mode in ("RGBA", "LA", "P") else "RGB"
    pixels = upright.convert(mode)
    fresh = Image.new(mode, pixels.size)
    fresh.paste(pixels)
    out = io.BytesIO()
    if suffix == "png":
        fresh.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        fresh.save(out, format="JPEG", quality=88)
        content_type = "image/jpeg"
    return CleanPhoto(out.getvalue(), suffix, content_type, fresh.width, fresh.height)
