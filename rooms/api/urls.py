from django.urls import path

from rooms.api import moderation, rooms

urlpatterns = [
    path("rooms/", rooms.RoomListAPIView.as_view(), name="api-rooms"),
    path("rooms/<slug:slug>/", rooms.RoomDetailAPIView.as_view(), name="api-room"),
    path("rooms/<slug:slug>/members/", rooms.RoomMembersAPIView.as_view(), name="api-room-members"),
    path("rooms/<slug:slug>/lock/", moderation.LockAPIView.as_view(), name="api-room-lock"),
    path("rooms/<slug:slug>/members/<str:username>/mute/", moderation.MuteAPIView.as_view(), name="api-mute"),
    path("rooms/<slug:slug>/members/<str:username>/ban/", moderation.BanAPIView.as_view(), name="api-ban"),
]
