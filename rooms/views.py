"""Server-rendered room pages. Each view: fetch and authorize, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from messages.interface import ChatLogUnavailable, recent_messages
from rooms import policies, selectors, services
from rooms.access import access_room
from rooms.forms import MemberForm, RoomCreateForm

RECENT_MESSAGES = 50


@login_required
def room_list(request):
    my_rooms = selectors.rooms_of_user(user=request.user)
    return render(
        request,
        "rooms/list.html",
        {
            "public_rooms": selectors.rooms_public(),
            "my_rooms": my_rooms,
            "my_room_ids": {room.pk for room in my_rooms},  # marks "joined" in the public list
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_create(request):
    form = RoomCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(creator=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("rooms:detail", slug=room.slug)
    return render(request, "rooms/create.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def room_detail(request, slug: str):
    room, membership = access_room(user=request.user, slug=slug)
    try:
        recent = recent_messages(room_id=room.pk, limit=RECENT_MESSAGES)
    except ChatLogUnavailable:
        recent = []
        flash.warning(request, "Older messages cannot be loaded right now.")
    return render(
        request,
        "rooms/detail.html",
        {
            "room": room,
            "membership": membership,
            "is_member": policies.is_active_member(membership),
            "can_join": policies.can_join(membership=membership, room=room),
            "can_manage_members": policies.can_manage_members(membership=membership),
            "members": selectors.room_members(room=room),
            "recent_messages": recent,
            "max_body_chars": settings.CHAT_MAX_BODY_CHARS,
            "chat_config": {
                "socketPath": f"/ws/rooms/{room.slug}/",
                "lastSeq": recent[-1].seq if recent else 0,
                "maxBodyChars": settings.CHAT_MAX_BODY_CHARS,
                "user": {"id": request.user.pk, "username": request.user.get_username()},
            },
        },
    )


@login_required
@require_POST
def room_join(request, slug: str):
    room, _ = access_room(user=request.user, slug=slug)
    try:
        services.room_join(room=room, user=request.user)
    except PermissionDenied as error:
        flash.error(request, str(error))
    return redirect("rooms:detail", slug=room.slug)


@login_required
@require_POST
def room_leave(request, slug: str):
    room, _ = access_room(user=request.user, slug=slug)
    try:
        services.room_leave(room=room, user=request.user)
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
        return redirect("rooms:detail", slug=room.slug)
    return redirect("rooms:list")


@login_required
@require_POST
def member_add(request, slug: str):
    return _change_member(request, slug, services.membership_add, "added")


@login_required
@require_POST
def member_remove(request, slug: str):
    return _change_member(request, slug, services.membership_remove, "removed")


def _change_member(request, slug: str, service, verb: str):
    room, _ = access_room(user=request.user, slug=slug)
    form = MemberForm(request.POST)
    if not form.is_valid():
        flash.error(request, "Give a username.")
        return redirect("rooms:detail", slug=room.slug)
    try:
        service(room=room, actor=request.user, username=form.cleaned_data["username"])
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, f"{form.cleaned_data['username']} {verb}.")
    return redirect("rooms:detail", slug=room.slug)
