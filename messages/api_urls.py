from django.urls import path

from messages import api

urlpatterns = [
    path("rooms/<slug:slug>/messages/", api.RoomMessagesAPIView.as_view(), name="api-room-messages"),
    path("rooms/<slug:slug>/messages/<int:seq>/", api.RoomMessageAPIView.as_view(), name="api-room-message"),
]
