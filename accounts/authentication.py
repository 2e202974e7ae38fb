from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from accounts.tokens import token_key_from_authorization, user_for_token_key


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>` (or DRF's `Token <token>`) on any API request."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        key = token_key_from_authorization(header)
        if key is None:
            return None
        user = user_for_token_key(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return (user, key)
