"""Moderation through the API, for a room's owner and moderators (and staff)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import moderation
from rooms.access import access_room
from rooms.api.rooms import MembershipSerializer
from rooms.models import BAN_REASON_MAX_LENGTH

MUTE_MAX_MINUTES = 60 * 24 * 365


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=BAN_REASON_MAX_LENGTH, required=False, allow_blank=True, default="")


class MuteSerializer(ReasonSerializer):
    minutes = serializers.IntegerField(min_value=1, max_value=MUTE_MAX_MINUTES, required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if ("minutes" in attrs) == ("until" in attrs):
            raise serializers.ValidationError({"minutes": "Give either 'minutes' or 'until'."})
        if "minutes" in attrs:
            attrs["until"] = timezone.now() + timedelta(minutes=attrs.pop("minutes"))
        return attrs


class MemberModerationSerializer(MembershipSerializer):
    username = serializers.CharField(source="user.username")
    banned_at = serializers.DateTimeField()
    ban_reason = serializers.CharField()

    class Meta(MembershipSerializer.Meta):
        fields = ["username", *MembershipSerializer.Meta.fields, "banned_at", "ban_reason"]


ERRORS = {
    400: OpenApiResponse(description="Invalid field."),
    403: OpenApiResponse(description="Not a moderator of this room, or the target outranks you."),
    404: OpenApiResponse(description="No such room (or not visible to you)."),
}


class MuteAPIView(APIView):
    @extend_schema(
        summary="Mute a member until a time",
        request=MuteSerializer,
        responses={200: MemberModerationSerializer, **ERRORS},
    )
    def post(self, request, slug: str, username: str):
        room, _ = access_room(user=request.user, slug=slug)
        data = _valid(MuteSerializer, request)
        membership = moderation.membership_mute(room=room, actor=request.user, username=username, **data)
        return Response(MemberModerationSerializer(membership).data)

    @extend_schema(summary="Unmute a member", responses={200: MemberModerationSerializer, **ERRORS})
    def delete(self, request, slug: str, username: str):
        room, _ = access_room(user=request.user, slug=slug)
        membership = moderation.membership_unmute(room=room, actor=request.user, username=username)
        return Response(MemberModerationSerializer(membership).data)


class BanAPIView(APIView):
    @extend_schema(
        summary="Ban a member: their open sockets in the room close with 4403",
        request=ReasonSerializer,
        responses={200: MemberModerationSerializer, **ERRORS},
    )
    def post(self, request, slug: str, username: str):
        room, _ = access_room(user=request.user, slug=slug)
        data = _valid(ReasonSerializer, request)
        membership = moderation.membership_ban(room=room, actor=request.user, username=username, **data)
        return Response(MemberModerationSerializer(membership).data)

    @extend_schema(summary="Lift a ban", responses={200: MemberModerationSerializer, **ERRORS})
    def delete(self, request, slug: str, username: str):
        room, _ = access_room(user=request.user, slug=slug)
        membership = moderation.membership_unban(room=room, actor=request.user, username=username)
        return Response(MemberModerationSerializer(membership).data)


class LockAPIView(APIView):
    @extend_schema(
        summary="Lock the room: read-only at once", request=ReasonSerializer, responses={204: None, **ERRORS}
    )
    def post(self, request, slug: str):
        room, _ = access_room(user=request.user, slug=slug)
        moderation.room_set_locked(room=room, actor=request.user, locked=True, **_valid(ReasonSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Unlock the room", responses={204: None, **ERRORS})
    def delete(self, request, slug: str):
        room, _ = access_room(user=request.user, slug=slug)
        moderation.room_set_locked(room=room, actor=request.user, locked=False)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
