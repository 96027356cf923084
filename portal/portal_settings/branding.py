"""Branding: display name, brand colour (WCAG AA against white text) and the logo.

Logos are never stored as uploaded. PNG and JPEG are decoded and re-encoded with Pillow (which
drops metadata and anything hidden after the image); SVG is parsed without DTDs or entities and
refused unless every element and attribute is on a small allowlist, then re-serialised. The
file's type comes from its bytes, never from its name or the browser's Content-Type.
"""

import hashlib
import io
import re
from dataclasses import dataclass
from xml.etree.ElementTree import register_namespace  # noqa: S405  (serialising only)

from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException
from PIL import Image, UnidentifiedImageError

from portal.db import write_transaction
from portal.errors import ValidationFailed
from portal.models import BrandLogo, Company

MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 4096
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_FOREIGN_OK = ("{" + XLINK_NS + "}", "{http://www.w3.org/XML/1998/namespace}")
register_namespace("", SVG_NS)  # so a cleaned file reads <svg ...>, not <ns0:svg ...>
register_namespace("xlink", XLINK_NS)
SVG_ELEMENTS = {
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "defs", "lineargradient", "radialgradient", "stop", "title", "desc", "clippath",
    "use", "symbol", "style",
}  # fmt: skip
SVG_ATTRIBUTES = {
    "id", "class", "viewbox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy",
    "r", "rx", "ry", "d", "points", "fill", "fill-opacity", "fill-rule", "clip-rule", "stroke",
    "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-dasharray", "opacity", "transform", "offset", "stop-color", "stop-opacity",
    "gradientunits", "gradienttransform", "spreadmethod", "fx", "fy", "font-family",
    "font-size", "font-weight", "text-anchor", "dominant-baseline", "letter-spacing",
    "preserveaspectratio", "version", "clip-path", "href", "role", "aria-label", "aria-hidden",
    "space", "style",
}  # fmt: skip


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def contrast_with_white(color: str) -> float:
    """WCAG 2 contrast ratio of white text on ``color`` (#rrggbb)."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)
    return 1.05 / (luminance + 0.05)


def color_problem(color: str) -> str | None:
    """Why ``color`` cannot be the brand colour, or None."""
    if not HEX_COLOR.fullmatch(color or ""):
        return "Use a colour in the form #rrggbb, for example #4338ca."
    ratio = contrast_with_white(color)
    if ratio < MIN_CONTRAST:
        return (
            f"White text on {color} has a contrast ratio of {ratio:.2f}:1; WCAG AA needs at "
            f"least {MIN_CONTRAST}:1. Choose a darker colour."
        )
    return None


def brand_problems(name: str, color: str) -> dict:
    """Field -> message for a display name and colour that cannot be used."""
    errors = {}
    if not 1 <= len(" ".join((name or "").split())) <= 120:
        errors["name"] = "Use 1 to 120 characters."
    problem = color_problem((color or "").strip())
    if problem:
        errors["brand_color"] = problem
    return errors


def update_brand(company: Company, name: str, color: str) -> None:
    """Change the display name and colour together; nothing changes if either is refused."""
    errors = brand_problems(name, color)
    if errors:
        raise ValidationFailed("Some branding values are not valid.", fields=errors)
    Company.update(name=" ".join(name.split()), brand_color=color.strip().lower()).where(
        Company.id == company.id
    ).execute()


@dataclass(frozen=True)
class Logo:
    content_type: str
    data: bytes


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.field("logo", message)


def clean_logo(raw: bytes) -> Logo:
    """The stored form of an uploaded logo, or ValidationFailed saying why it is refused."""
    if not raw:
        raise _refuse("Choose a file to upload.")
    if len(raw) > MAX_LOGO_BYTES:
        raise _refuse("The logo is larger than 512 KB.")
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return _reencode(raw, "PNG")
    if raw.startswith(b"\xff\xd8\xff"):
        return _reencode(raw, "JPEG")
    if _looks_like_svg(raw):
        return _clean_svg(raw)
    raise _refuse("Upload a PNG, JPEG or SVG image.")


def _reencode(raw: bytes, kind: str) -> Logo:
    try:
        with Image.open(io.BytesIO(raw), formats=[kind]) as image:
            if max(image.size) > MAX_LOGO_SIDE:
                raise _refuse(f"Use an image of at most {MAX_LOGO_SIDE} pixels per side.")
            image.load()
            out = io.BytesIO()
            if kind == "PNG":
                image.save(out, "PNG", optimize=True)
            else:
                image.convert("RGB").save(out, "JPEG", quality=90)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse("This image file is damaged or not really a PNG or JPEG.") from None
    return Logo("image/png" if kind == "PNG" else "image/jpeg", out.getvalue())


def _looks_like_svg(raw: bytes) -> bool:
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!--")) and b"<svg" in raw[:4096].lower()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _svg_problem(root) -> str | None:
    if root.tag != f"{{{SVG_NS}}}svg":
        return f'An SVG logo must start with <svg xmlns="{SVG_NS}">.'
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local(element.tag)
        if not element.tag.startswith(f"{{{SVG_NS}}}"):
            return f"The SVG contains <{name}> from another vocabulary, which is not allowed."
        if name.lower() not in SVG_ELEMENTS:
            return f"The SVG contains <{name}>, which is not allowed in a logo."
        if name == "style" and _OUTSIDE.search(element.text or ""):
            return "The SVG's styles refer to an outside resource, which is not allowed."
        for attribute, value in element.attrib.items():
            problem = _attribute_problem(name, attribute, value)
            if problem:
                return problem
    return None


_OUTSIDE = re.compile(r"url\(\s*(?!['\"]?#)|@import|expression\(|javascript:", re.IGNORECASE)


def _attribute_problem(element: str, attribute: str, value: str) -> str | None:
    key = _local(attribute).lower()
    if attribute.startswith("{") and not attribute.startswith(_FOREIGN_OK):
        return f"The SVG attribute {key} on <{element}> is not allowed."
    if key.startswith("on"):
        return f"The SVG has an event handler ({key}) on <{element}>; scripts are not allowed."
    if key not in SVG_ATTRIBUTES:
        return f"The SVG attribute {key} on <{element}> is not allowed in a logo."
    if (key == "href" and not value.startswith("#")) or _OUTSIDE.search(value):
        return "The SVG refers to an outside resource; only references within the file work."
    return None


MAX_SVG_DEPTH = 32


def _depth_problem(root) -> str | None:
    """A logo needs a few levels of groups; thousands would exhaust the serializer's
    recursion. Measured without recursion."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_SVG_DEPTH:
            return f"The SVG nests elements more than {MAX_SVG_DEPTH} levels deep."
        stack.extend((child, depth + 1) for child in element)
    return None


def _clean_svg(raw: bytes) -> Logo:
    try:
        root = SafeTree.fromstring(raw, forbid_dtd=True)
    except (SafeTree.ParseError, DefusedXmlException, ValueError):
        raise _refuse("This SVG file cannot be read (or declares a DTD or entities).") from None
    problem = _depth_problem(root) or _svg_problem(root)
    if problem:
        raise _refuse(problem)
    # Re-serialised from the checked tree: comments, processing instructions and the
    # original bytes are gone.
    return Logo("image/svg+xml", SafeTree.tostring(root, encoding="utf-8"))


def save_logo(company: Company, logo: Logo) -> BrandLogo:
    digest = hashlib.sha256(logo.data).hexdigest()
    with write_transaction():
        BrandLogo.delete().where(BrandLogo.company == company).execute()
        return BrandLogo.create(
            company=company, content_type=logo.content_type, digest=digest, data=logo.data
        )


def remove_logo(company: Company) -> bool:
    return BrandLogo.delete().where(BrandLogo.company == company).execute() > 0


def logo_of(company_id: str) -> BrandLogo | None:
    return BrandLogo.get_or_none(BrandLogo.company == company_id)


def logo_version(company_id: str) -> str | None:
    """A short version tag for cache-busting logo URLs, without loading the image bytes."""
    row = BrandLogo.select(BrandLogo.digest).where(BrandLogo.company == company_id).first()
    return row.digest[:12] if row else None
