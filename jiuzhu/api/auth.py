"""Personal API tokens: `Authorization: Bearer <token>`.

Only the token's SHA-256 is stored (ApiToken), so the look-up is by digest. The token
acts as its user — same role, same area, same duties as on the pages — and stops
working the moment the user is deactivated. Bearer only, no session cookie: a cookie
would need CSRF protection, a header sent by a script does not.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from jiuzhu.accounts.models import ApiToken, User

#: `last_used_at` is written at most this often, so a busy client does not write on every read.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        api_token = (ApiToken.objects.select_related("user")
                     .filter(digest=ApiToken.digest_of(token)).first())
        if api_token is None or not api_token.user.is_active:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        # Code that reads request.user (logging, audit helpers) sees the token's user.
        request.user = api_token.user
        return api_token.user


def user_of(request: HttpRequest) -> User:
    """The authenticated user of an API request (every route requires a token)."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User)
    return user
