from django.urls import path

from rooms import api, moderation_api

urlpatterns = [
    path("rooms/", api.RoomListAPIView.as_view(), name="api-rooms"),
    path("rooms/<slug:slug>/", api.RoomDetailAPIView.as_view(), name="api-room"),
    path("rooms/<slug:slug>/lock/", moderation_api.LockAPIView.as_view(), name="api-room-lock"),
    path("rooms/<slug:slug>/members/<str:username>/mute/", moderation_api.MuteAPIView.as_view(), name="api-mute"),
    path("rooms/<slug:slug>/members/<str:username>/ban/", moderation_api.BanAPIView.as_view(), name="api-ban"),
]
