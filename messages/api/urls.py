from django.urls import path

from messages.api import history

urlpatterns = [
    path("rooms/<slug:slug>/messages/", history.RoomMessagesAPIView.as_view(), name="api-room-messages"),
    path("rooms/<slug:slug>/messages/<int:seq>/", history.RoomMessageAPIView.as_view(), name="api-room-message"),
]
