"""Static files under content-hashed names (portal.3f2a9c1b7e0d.css), cached for a year.

A changed file gets a new name, so browsers may keep every name forever. Files are read and
compressed (Brotli, gzip) once at start-up and served from memory.
"""

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Flask, Response, abort, request, url_for

YEAR = 365 * 24 * 3600
COMPRESSIBLE = (".css", ".js", ".svg", ".txt")


@dataclass(frozen=True)
class Asset:
    body: bytes
    mimetype: str
    encoded: dict  # encoding name -> compressed bytes


_compressed: dict[str, dict] = {}  # content hash -> encodings, shared by every app instance


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    key = hashlib.sha256(body).hexdigest()
    if key not in _compressed:
        _compressed[key] = _compress(path, body)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Asset(body, mimetype, _compressed[key])


def _compress(path: Path, body: bytes) -> dict:
    if path.suffix not in COMPRESSIBLE:
        return {}
    return {"br": brotli.compress(body, quality=11), "gzip": gzip.compress(body, 9, mtime=0)}


def _hashed_name(relative: Path, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:12]
    return str(relative.with_name(f"{relative.stem}.{digest}{relative.suffix}"))


def _respond(asset: Asset) -> Response:
    accepted = request.accept_encodings
    encoding = next(
        (name for name in ("br", "gzip") if name in asset.encoded and accepted[name]), None
    )
    response = Response(
        asset.encoded[encoding] if encoding else asset.body, mimetype=asset.mimetype
    )
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def install(app: Flask) -> None:
    static = Path(app.static_folder)
    names, files = {}, {}
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        relative = path.relative_to(static)
        asset = _load(path)
        hashed = _hashed_name(relative, asset.body)
        names[str(relative)] = hashed
        files[hashed] = asset

    @app.route("/assets/<path:filename>", endpoint="assets")
    def serve_asset(filename):
        asset = files.get(filename)
        if asset is None:
            abort(404)
        return _respond(asset)

    app.jinja_env.globals["asset"] = lambda name: url_for("assets", filename=names[name])
