from django.urls import path

from rooms import views

app_name = "rooms"
urlpatterns = [
    path("", views.room_list, name="list"),
    path("new/", views.room_create, name="create"),
    path("<slug:slug>/", views.room_detail, name="detail"),
    path("<slug:slug>/join/", views.room_join, name="join"),
    path("<slug:slug>/leave/", views.room_leave, name="leave"),
    path("<slug:slug>/members/add/", views.member_add, name="member-add"),
    path("<slug:slug>/members/remove/", views.member_remove, name="member-remove"),
]
