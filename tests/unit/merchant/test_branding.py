"""Branding: display name, a brand colour refused below WCAG AA contrast with white text,
the header text (same rules as the API) and logo uploads checked by their bytes, re-encoded,
size-capped, SVG without scripts, served by the app with nosniff."""

import io

import pytest
from browsing import csrf_of
from PIL import Image
from support import add_domain
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.models import BrandLogo, Company
from portal.portal_settings.branding import contrast_with_white


def save(owner, name="Acme Cloud", color="#4338ca", header=""):
    return owner.post(
        "/merchant/branding", {"name": name, "brand_color": color, "portal_header": header}
    )


def image_bytes(kind="PNG", size=(40, 20), **save_args) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind, **save_args)
    return out.getvalue()


def upload(owner, data: bytes, filename="logo.png", content_type="image/png"):
    # Encoded here in memory: the test client would spool a large body to an unclosed file.
    logo = FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)
    fields = {"csrf_token": owner.token, "logo": logo}
    boundary, body = encode_multipart(fields)
    return owner.client.post(
        "/merchant/branding/logo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.mark.parametrize(
    ("color", "ratio"),
    [("#ffffff", 1.0), ("#000000", 21.0), ("#767676", 4.54), ("#777777", 4.48), ("#4338ca", 7.9)],
)
def test_contrast_follows_the_wcag_formula(color, ratio):
    assert contrast_with_white(color) == pytest.approx(ratio, abs=0.01)


def test_name_colour_and_header_are_saved_together(owner, merchant):
    response = save(owner, "  Acme   Cloud Inc ", "#1D4ED8", "Questions? billing@acme.example")
    assert response.status_code == 303
    company = Company.get_by_id(merchant.id)
    assert (company.name, company.brand_color) == ("Acme Cloud Inc", "#1d4ed8")
    assert merchant.ok("GET", "/customer-portal-config")["portal_header"] == (
        "Questions? billing@acme.example"
    )
    assert "--brand: #1d4ed8" in owner.get("/merchant/preview.css").get_data(as_text=True)


@pytest.mark.parametrize("color", ["#ffff00", "#777777", "#a0a0ff"])
def test_a_low_contrast_colour_is_refused_with_a_clear_message(owner, merchant, color):
    response = save(owner, "New name", color, "New header")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"White text on {color} has a contrast ratio of" in html and "at least 4.5:1" in html
    company = Company.get_by_id(merchant.id)
    assert (company.name, company.brand_color) == ("Acme Cloud", "#4338ca")
    assert merchant.ok("GET", "/customer-portal-config")["portal_header"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand_color", "red;background:url(//evil)", "#rrggbb"),
        ("brand_color", "#12345", "#rrggbb"),
        ("header", "x" * 121, "120"),
        ("name", "x" * 121, "120"),
    ],
)
def test_malformed_branding_values_are_refused(owner, merchant, field, value, message):
    values = {
        "name": "Acme Cloud",
        "color": "#4338ca",
        "header": "",
        field.replace("brand_", ""): value,
    }
    response = save(owner, values["name"], values["color"], values["header"])
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert Company.get_by_id(merchant.id).brand_color == "#4338ca"


@pytest.mark.parametrize(
    ("data", "kind"),
    [(image_bytes("PNG"), "image/png"), (image_bytes("JPEG", quality=80), "image/jpeg")],
)
def test_png_and_jpeg_logos_are_re_encoded_and_served_with_nosniff(
    client, owner, merchant, data, kind
):
    assert upload(owner, data + b"<script>trailing</script>").status_code == 303
    row = BrandLogo.get()
    assert row.content_type == kind and b"<script>" not in bytes(row.data)
    served = client.get(f"/brand/{merchant.id}/logo")
    assert served.status_code == 200 and served.mimetype == kind
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert Image.open(io.BytesIO(served.data)).size == (40, 20)
    assert f"/brand/{merchant.id}/logo?v=" in owner.get("/merchant/branding").get_data(as_text=True)


def test_the_type_comes_from_the_bytes_not_the_name(owner):
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    for data in (
        gif.getvalue(),
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\nnot really",
    ):
        response = upload(owner, data, "logo.png", "image/png")
        assert response.status_code == 422
    assert BrandLogo.select().count() == 0


def test_a_logo_over_512_kb_is_refused(owner):
    big = image_bytes("PNG", size=(8, 8)) + b"\0" * (512 * 1024)
    response = upload(owner, big)
    assert response.status_code in (413, 422)
    assert "larger than 512 KB" in response.get_data(as_text=True)
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (700 * 1024)
    response = upload(owner, huge)
    assert response.status_code == 413 and "larger than 512 KB" in response.get_data(as_text=True)
    assert BrandLogo.select().count() == 0


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' viewBox="0 0 10 10">{}</svg>'
)


@pytest.mark.parametrize(
    "inner",
    [
        "<script>alert(1)</script>",
        '<rect width="10" height="10" onload="alert(1)"/>',
        '<foreignObject><body xmlns="http://www.w3.org/1999/xhtml">x</body></foreignObject>',
        '<use xlink:href="https://evil.example/x.svg#a"/>',
        '<image href="https://evil.example/x.png"/>',
        '<rect style="fill:url(https://evil.example/x)"/>',
        "<style>@import url(https://evil.example/x.css);</style>",
        '<a href="javascript:alert(1)"><rect/></a>',
    ],
)
def test_svg_with_scripts_or_outside_references_is_refused(owner, inner):
    response = upload(owner, SVG.format(inner).encode(), "logo.svg", "image/svg+xml")
    assert response.status_code == 422
    assert BrandLogo.select().count() == 0


def test_svg_with_entities_is_refused(owner):
    data = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    assert upload(owner, data, "logo.svg").status_code == 422


def test_a_deeply_nested_svg_is_refused_with_a_message(owner):
    # Thousands of nested groups used to exhaust the serializer's recursion (a 500).
    data = SVG.format("<g>" * 5000 + "<rect/>" + "</g>" * 5000).encode()
    response = upload(owner, data, "logo.svg", "image/svg+xml")
    assert response.status_code == 422
    assert "levels deep" in response.get_data(as_text=True)
    assert BrandLogo.select().count() == 0


def test_a_plain_svg_is_accepted_without_its_comments(client, owner, merchant):
    data = SVG.format('<!-- made by hand --><rect width="10" height="10" fill="url(#g)"/>').encode()
    assert upload(owner, data, "logo.svg", "image/svg+xml").status_code == 303
    served = client.get(f"/brand/{merchant.id}/logo")
    assert served.mimetype == "image/svg+xml" and b"made by hand" not in served.data
    assert served.data.startswith(b"<svg")


def test_removing_the_logo(client, owner, merchant):
    upload(owner, image_bytes())
    assert owner.post("/merchant/branding/logo/remove").status_code == 303
    assert client.get(f"/brand/{merchant.id}/logo").status_code == 404


def test_on_a_custom_domain_only_that_companys_logo_is_served(
    client, owner, other_owner, merchant, other_merchant
):
    upload(owner, image_bytes())
    upload(other_owner, image_bytes())
    add_domain(merchant.company, "billing.acme.test")
    on_domain = {"base_url": "http://billing.acme.test"}
    assert client.get(f"/brand/{merchant.id}/logo", **on_domain).status_code == 200
    assert client.get(f"/brand/{other_merchant.id}/logo", **on_domain).status_code == 404


def test_branding_forms_need_csrf(owner, merchant):
    page = owner.get("/merchant/branding")
    assert csrf_of(page)
    response = owner.client.post("/merchant/branding", data={"name": "X", "brand_color": "#000000"})
    assert response.status_code == 400 and Company.get_by_id(merchant.id).name == "Acme Cloud"


def test_the_customer_portal_shows_the_uploaded_logo(client, owner, merchant):
    sign_in_page = f"/p/{merchant.id}"
    assert "/logo?v=" not in client.get(sign_in_page).get_data(as_text=True)
    upload(owner, image_bytes())
    html = client.get(sign_in_page).get_data(as_text=True)
    assert f'<img class="brand-logo" src="/brand/{merchant.id}/logo?v=' in html
