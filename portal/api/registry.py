"""Every API route is declared once here, so the OpenAPI document cannot miss one."""

from dataclasses import dataclass, field


@dataclass
class RouteSpec:
    rule: str
    method: str
    summary: str
    tag: str
    auth: str  # secret | publishable | session | none
    body: type | None = None
    query: type | None = None
    response: type | None = None
    status: int = 200
    paginated: bool = False
    path_params: list[str] = field(default_factory=list)


ROUTES: list[RouteSpec] = []
