"""`/api/rooms/`: the rooms a caller can see, and one room with the caller's membership."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.pagination import LimitOffsetPagination

from chatproject.api_errors import error_responses
from rooms import policies, selectors
from rooms.models import Membership, Room


def access_room_for_api(user, slug: str) -> tuple[Room, Membership | None]:
    """The room and the caller's membership; 404 when the caller may not see it, so a
    private room's existence does not leak."""
    room = Room.objects.filter(slug=slug).first()
    membership = selectors.membership_get(room=room, user=user) if room else None
    if room is None or not policies.can_view(membership=membership, room=room):
        raise Http404  # the same answer for "no such room" and "not yours to see"
    return room, membership


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["role", "joined_at", "muted_until"]


class RoomSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Room
        fields = ["slug", "name", "topic", "is_private", "is_locked", "is_archived", "created_at", "member_count"]


class RoomDetailSerializer(RoomSerializer):
    membership = serializers.SerializerMethodField()

    class Meta(RoomSerializer.Meta):
        fields = [*RoomSerializer.Meta.fields, "membership"]

    @extend_schema_field(MembershipSerializer(allow_null=True))
    def get_membership(self, room) -> dict | None:
        membership = self.context.get("membership")
        if not policies.is_active_member(membership):
            return None
        return MembershipSerializer(membership).data


class RoomPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 100


@extend_schema(summary="Rooms the caller can see: public ones and their own")
class RoomListAPIView(generics.ListAPIView):
    serializer_class = RoomSerializer
    pagination_class = RoomPagination

    def get_queryset(self):
        return selectors.rooms_visible_to(user=self.request.user)


@extend_schema(
    summary="One room, with the caller's membership (null when not a member)",
    responses={200: RoomDetailSerializer, **error_responses(404)},
)
class RoomDetailAPIView(generics.RetrieveAPIView):
    serializer_class = RoomDetailSerializer

    def get_object(self):
        room, membership = access_room_for_api(self.request.user, self.kwargs["slug"])
        self.membership = membership
        return selectors.room_with_member_count(room_id=room.pk)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "membership": getattr(self, "membership", None)}
