"""DRF exception handler: services raise Django's exceptions; the API answers with DRF's."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ObjectDoesNotExist):
        exc = exceptions.NotFound(str(exc) or None)
    return exception_handler(exc, context)


def error_responses(*status_codes: int) -> dict:
    """OpenAPI responses for the errors an endpoint can answer with (drf-spectacular)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiResponse

    descriptions = {
        400: "Invalid input: an object of field names to lists of messages.",
        403: "Not allowed.",
        404: "No such object, or not visible to the caller.",
        429: "Rate limited; the Retry-After header says when to try again.",
        503: "A backing store is unavailable; retry later.",
    }
    return {code: OpenApiResponse(OpenApiTypes.OBJECT, description=descriptions[code]) for code in status_codes}


def document_authentication_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation that needs a caller can answer 401
    (no credentials, or a revoked token)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            security = operation.get("security")
            if not security or {} in security:
                continue  # open to anonymous callers
            operation.setdefault("responses", {}).setdefault(
                "401",
                {
                    "description": "Not authenticated: no or an invalid token or session.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
            )
    return result
