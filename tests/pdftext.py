"""Just enough of a PDF reader to check fpdf2's output: the cross-reference table points at
the objects, and the text drawn on the pages, decoded through each font's ToUnicode map."""

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>")
_FONT_REF = re.compile(rb"/(F\d+) (\d+) 0 R")
_SHOW = re.compile(rb"/(F\d+) [\d.]+ Tf|\((?:\\.|[^\\)])*\)\s*Tj|\[(?:\\.|[^\]])*\]\s*TJ", re.S)
_LITERAL = re.compile(rb"\((?:\\.|[^\\)])*\)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(pdf)}


def check_structure(pdf: bytes) -> None:
    """Header, trailer and every xref offset pointing at the object it names."""
    assert pdf.startswith(b"%PDF-1."), pdf[:16]
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref")
    table = re.search(rb"xref\s+0 (\d+)\s+(.*?)trailer", pdf, re.S)
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf])", table.group(2))
    assert len(entries) == int(table.group(1))
    for number, (offset, _gen, kind) in enumerate(entries):
        if kind == b"n":
            assert pdf[int(offset) :].startswith(b"%d 0 obj" % number), number


def _stream(body: bytes) -> bytes:
    data = _STREAM.search(body).group(1)
    return zlib.decompress(data) if b"/FlateDecode" in body else data


def _unescape(literal: bytes) -> bytes:
    out, index, inner = bytearray(), 0, literal[1:-1]
    while index < len(inner):
        char = inner[index : index + 1]
        if char != b"\\":
            out += char
            index += 1
            continue
        following = inner[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", inner[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(0), 8))
            index += 1 + len(octal.group(0))
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)


def _cmap(body: bytes) -> dict[int, str]:
    pairs = _BFCHAR.findall(_stream(body))
    return {int(code, 16): bytes.fromhex(uni.decode()).decode("utf-16-be") for code, uni in pairs}


def page_text(pdf: bytes) -> str:
    """All text shown on the pages, in drawing order, one line per show operator."""
    objs = objects(pdf)
    fonts = {}
    for body in objs.values():
        for name, ref in _FONT_REF.findall(body):
            unicode_ref = re.search(rb"/ToUnicode (\d+) 0 R", objs[int(ref)])
            fonts[name] = _cmap(objs[int(unicode_ref.group(1))])
    lines, current = [], {}
    for body in objs.values():
        if b"/Type /Page\n" not in body:
            continue
        contents = int(re.search(rb"/Contents (\d+) 0 R", body).group(1))
        for op in _SHOW.finditer(_stream(objs[contents])):
            if op.group(1):
                current = fonts[op.group(1)]
                continue
            raw = b"".join(_unescape(lit) for lit in _LITERAL.findall(op.group(0)))
            codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            lines.append("".join(current.get(code, "\ufffd") for code in codes))
    return "\n".join(lines)
