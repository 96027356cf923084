"""Countries for billing addresses: the ISO 3166-1 alpha-2 codes and their English short
names, from pycountry's copy of the ISO list (kept current by its maintainers, not by us)."""

import unicodedata

import pycountry


def _name(country) -> str:
    # ``common_name`` where ISO's official name is not what people say (Bolivia, Iran).
    return getattr(country, "common_name", country.name)


def _sort_key(name: str) -> str:
    # Åland Islands sorts with the A's, Côte d'Ivoire with the C's.
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


COUNTRIES = tuple(
    sorted(((c.alpha_2, _name(c)) for c in pycountry.countries), key=lambda c: _sort_key(c[1]))
)
CODES = frozenset(code for code, _ in COUNTRIES)
