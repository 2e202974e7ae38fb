from django.urls import path

from messages.json_endpoint import RoomChatConsumer
from messages.stomp.consumer import StompConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomChatConsumer.as_asgi()),
    path("ws/stomp/", StompConsumer.as_asgi()),
]
