"""`/api/rooms/`: the rooms a caller can see, one room with the caller's membership, its members."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.pagination import LimitOffsetPagination

from chatproject.api_errors import error_responses
from rooms import policies, selectors
from rooms.access import access_room
from rooms.models import Membership, Room


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
        room, membership = access_room(user=self.request.user, slug=self.kwargs["slug"])
        self.membership = membership
        return selectors.room_with_member_count(room_id=room.pk)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "membership": getattr(self, "membership", None)}


class MemberSerializer(serializers.ModelSerializer):
    """A member of a room, as the `member.updated` frame carries it (docs/protocol.md)."""

    id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role"]


class MemberPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 500


@extend_schema(
    summary="The room's members (not those banned from it), by username",
    responses={200: MemberSerializer(many=True), **error_responses(404)},
)
class RoomMembersAPIView(generics.ListAPIView):
    serializer_class = MemberSerializer
    pagination_class = MemberPagination

    def get_queryset(self):
        room, _ = access_room(user=self.request.user, slug=self.kwargs["slug"])
        return selectors.room_members(room=room)
