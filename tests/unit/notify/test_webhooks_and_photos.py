"""Standard Webhooks signatures as a stock receiver checks them; photos stripped of metadata."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from compliance import photos
from notify import webhooks

pytestmark = pytest.mark.unit


def test_our_signature_verifies_with_the_standardwebhooks_library():
    import time

    secret = webhooks.new_secret()
    body = json.dumps(
        {"type": "case.opened", "timestamp": "2026-12-01T10:00:00Z", "data": {"id": 1}}
    )
    now = int(time.time())
    headers = webhooks.headers(secret, "msg_ev1_wh1", now, body)
    assert Webhook(secret).verify(body, headers)["data"] == {"id": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("1}", "2}"), headers)


def test_the_signature_is_the_specification_s_example():
    # The Standard Webhooks specification's own example (msg_p5jXN8AQM9LWM0D4loKWxJek, ...).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    assert (
        webhooks.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def _jpeg(**exif_values) -> bytes:
    image = Image.new("RGB", (30, 20), (10, 200, 30))
    exif = Image.Exif()
    for tag, value in exif_values.items():
        exif[int(tag.removeprefix("t"))] = value
    gps = exif.get_ifd(0x8825)
    gps[2] = (51.0, 30.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_loses_every_piece_of_metadata_and_is_turned_upright():
    raw = _jpeg(t271="MakerX", t274=8)
    assert b"MakerX" in raw
    clean = photos.clean(raw)
    assert b"MakerX" not in clean.data
    image = Image.open(io.BytesIO(clean.data))
    assert len(image.getexif()) == 0
    assert (clean.width, clean.height) == (20, 30)
    assert clean.content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"GIF89a" + b"\x00" * 40, "not a picture we can open"),
        (b"not an image at all", "not a picture we can open"),
    ],
)
def test_what_is_not_a_photo_is_refused_with_the_reason(data, reason):
    with pytest.raises(photos.PhotoRefused, match=reason):
        photos.clean(data, name="upload.jpg")


def test_a_gif_or_a_truncated_jpeg_is_refused():
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(photos.PhotoRefused, match="not a JPEG, PNG or WebP"):
        photos.clean(gif.getvalue())
    with pytest.raises(photos.PhotoRefused, match="damaged or incomplete"):
        photos.clean(_jpeg()[:300])


def test_a_png_stays_png_without_its_text_chunks():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 1 Mill Street")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(out, format="PNG", pnginfo=info)
    clean = photos.clean(out.getvalue())
    assert clean.content_type == "image/png"
    assert b"Mill Street" not in clean.data
