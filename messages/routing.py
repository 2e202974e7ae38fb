from django.urls import path

from messages.consumers import RoomChatConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomChatConsumer.as_asgi()),
]
