from django.urls import path

from rooms import api

urlpatterns = [
    path("rooms/", api.RoomListAPIView.as_view(), name="api-rooms"),
    path("rooms/<slug:slug>/", api.RoomDetailAPIView.as_view(), name="api-room"),
]
