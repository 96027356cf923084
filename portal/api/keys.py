"""GET /validate-key: what the official client calls before anything else."""

from flask import g
from pydantic import BaseModel

from .core import api_route
from .envelope import success


class KeyInfo(BaseModel):
    company_id: str
    key_type: str
    livemode: bool
    basisTheoryPublicApiKey: str  # noqa: N815 (the official client reads this exact name)


@api_route(
    "/validate-key",
    "GET",
    summary="Check an API key and tell which company it belongs to",
    tag="Keys",
    auth="publishable",
    response=KeyInfo,
)
def validate_key():
    key = g.api_key
    return success(
        {
            "company_id": key.company_id,
            "key_type": key.key_type,
            "livemode": key.livemode,
            # No external tokenization provider: the built-in gateway tokenizes cards itself.
            "basisTheoryPublicApiKey": "",
        },
        message="API key is valid",
    )
