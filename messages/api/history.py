"""`/api/rooms/<slug>/messages/`: history from the chat log, posting without a socket, deleting."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from chatproject.api_errors import error_responses
from messages.api.serializers import (
    HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT,
    HistoryQuerySerializer,
    MessageSerializer,
    PostMessageSerializer,
)
from messages.chatlog import ChatLogUnavailable, run_sync
from messages.realtime import protocol
from messages.services import PostRejected, message_delete, message_post
from rooms.access import access_room


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Messages cannot be read or stored right now; retry later."
    default_code = protocol.UNAVAILABLE


class PostForbidden(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = protocol.FORBIDDEN


def _page_url(request, **params) -> str:
    query = request.query_params.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    query.update({key: str(value) for key, value in params.items()})
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class RoomMessagesAPIView(APIView):
    @extend_schema(
        summary="Message history in seq order (oldest first), cursor-paginated",
        parameters=[
            OpenApiParameter(
                "before", OpenApiTypes.INT, description="Messages with seq below this (default: the newest)."
            ),
            OpenApiParameter("after", OpenApiTypes.INT, description="Messages with seq above this."),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"1 to {HISTORY_MAX_LIMIT} (default {HISTORY_DEFAULT_LIMIT})."
            ),
        ],
        responses={
            200: inline_serializer(
                "MessagePage",
                {
                    "results": MessageSerializer(many=True),
                    "next": serializers.URLField(allow_null=True, help_text="Newer messages."),
                    "previous": serializers.URLField(allow_null=True, help_text="Older messages."),
                },
            ),
            **error_responses(400, 404, 503),
        },
    )
    def get(self, request, slug: str):
        room, _ = access_room(user=request.user, slug=slug)
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        limit = params["limit"]

        async def read(log):
            if "after" in params:
                page = await log.page_after(room_id=room.pk, after_seq=params["after"], limit=limit)
            else:
                page = await log.page_before(room_id=room.pk, before_seq=params.get("before"), limit=limit)
            return page, await log.last_seq(room_id=room.pk)

        try:
            page, last_seq = run_sync(read)
        except ChatLogUnavailable:
            raise ServiceUnavailable from None
        results = [protocol.message_payload(message, room_slug=room.slug) for message in page]
        if page:
            older = page[0].seq > 1
            newer = page[-1].seq < last_seq
            oldest, newest = page[0].seq, page[-1].seq
        else:  # an empty page: point back toward where messages are
            older = params.get("after", 0) > 0 and last_seq > 0
            newer = False
            oldest = min(params.get("after", last_seq) + 1, last_seq + 1)
            newest = 0
        return Response(
            {
                "results": results,
                "next": _page_url(request, after=newest) if newer else None,
                "previous": _page_url(request, before=oldest) if older else None,
            }
        )

    @extend_schema(
        summary="Post a message, with the WebSocket send's rules and guarantees",
        request=PostMessageSerializer,
        responses={
            201: OpenApiResponse(MessageSerializer, description="Stored and broadcast."),
            200: OpenApiResponse(
                MessageSerializer, description="Already stored under this client_id; not broadcast again."
            ),
            400: OpenApiResponse(description="Invalid field (field-level messages)."),
            403: OpenApiResponse(description="Muted, banned or the room is locked."),
            404: OpenApiResponse(description="No such room, or not visible to the caller."),
            429: OpenApiResponse(description="Rate limited; see Retry-After."),
            503: OpenApiResponse(description="The chat log is unavailable; retry later with the same client_id."),
        },
    )
    def post(self, request, slug: str):
        room, _ = access_room(user=request.user, slug=slug)
        serializer = PostMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        try:
            posted = run_sync(
                lambda log: message_post(
                    room_id=room.pk,
                    user_id=user.pk,
                    username=user.get_username(),
                    client_id=serializer.validated_data["client_id"],
                    body=serializer.validated_data["body"],
                )
            )
        except PostRejected as error:
            if error.code == protocol.RATE_LIMITED:
                raise Throttled(wait=error.extra["retry_after"], detail=error.detail) from None
            if error.code == protocol.UNAVAILABLE:
                raise ServiceUnavailable from None
            raise PostForbidden(error.detail) from None
        return Response(posted.payload, status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK)


class RoomMessageAPIView(APIView):
    @extend_schema(
        summary="Delete a message (owner and moderators): a tombstone stays so seq stays gap-free",
        request=None,
        responses={
            204: None,
            403: OpenApiResponse(description="Not a moderator of this room."),
            404: OpenApiResponse(description="No such room or message."),
            503: OpenApiResponse(description="The chat log is unavailable; retry later."),
        },
    )
    def delete(self, request, slug: str, seq: int):
        room, _ = access_room(user=request.user, slug=slug)
        try:
            message_delete(room=room, actor=request.user, seq=seq)
        except ChatLogUnavailable:
            raise ServiceUnavailable from None
        return Response(status=status.HTTP_204_NO_CONTENT)
