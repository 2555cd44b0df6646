"""The NinjaAPI object: every route needs a personal token, and every error has one shape.

Served under /api/v1/ (jiuzhu/urls.py); the OpenAPI document is /api/v1/openapi.json
and the interactive docs /api/v1/docs.
"""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.operation import Operation

from jiuzhu.api import errors
from jiuzhu.api.auth import TokenAuth
from jiuzhu.api.routers import applications, decisions, households, persons


class JiuzhuAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The view's name (`list_households`), unique across the routers, instead of its dotted path."""
        return operation.view_func.__name__


api = JiuzhuAPI(
    title="Jiuzhu API",
    version="1",
    description=(
        "Households, persons, applications and decisions of the social-assistance casework platform. "
        "Authenticate with a personal token: `Authorization: Bearer <token>`. Everything is scoped to "
        "your area: a record outside it answers 404. Validation errors answer 422 with "
        "`{\"errors\": [{\"path\", \"message\"}]}`; a stale `version` answers 409."
    ),
    urls_namespace="api",
    auth=TokenAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)
api.add_router("", households.router)
api.add_router("", persons.router)
api.add_router("", applications.router)
api.add_router("", decisions.router)
