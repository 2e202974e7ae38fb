"""The admin's per-room message view: reads and deletes messages through messages.interface."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from messages.interface import ChatLogUnavailable, message_delete, messages_search
from rooms.models import Room

PAGE_SIZE = 50


class MessageSearchForm(forms.Form):
    author = forms.CharField(required=False, max_length=150)
    text = forms.CharField(required=False, max_length=200)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def room_messages_view(request, room_id: int):
    room = get_object_or_404(Room, pk=room_id)
    if not request.user.has_perm("rooms.change_room"):
        raise PermissionDenied
    url = reverse("admin:rooms_room_messages", args=[room.pk])
    if request.method == "POST":
        _delete(request, room)
        return redirect(f"{url}?{request.GET.urlencode()}")

    form = MessageSearchForm(request.GET or None)
    criteria = form.cleaned_data if form.is_valid() else {}
    page, error = [], None
    try:
        page = messages_search(
            room_id=room.pk,
            author_username=criteria.get("author") or None,
            text=criteria.get("text") or None,
            before_seq=criteria.get("before"),
            limit=PAGE_SIZE + 1,
        )
    except ChatLogUnavailable:
        error = "The chat log is unavailable right now."
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    older = request.GET.copy()
    if has_more:
        older["before"] = page[-1].seq
    context = {
        **admin.site.each_context(request),
        "title": f"Messages in {room.name}",
        "room": room,
        "opts": Room._meta,
        "form": form,
        "page": page,
        "error": error,
        "older_query": older.urlencode() if has_more else None,
    }
    return TemplateResponse(request, "admin/rooms/room_messages.html", context)


def _delete(request, room: Room) -> None:
    try:
        seq = int(request.POST.get("seq", ""))
        message_delete(room=room, actor=request.user, seq=seq, reason=request.POST.get("reason", "")[:500])
    except ValueError:
        messages.error(request, "Choose a message to delete.")
    except ObjectDoesNotExist as error:
        messages.error(request, str(error))
    except ChatLogUnavailable:
        messages.error(request, "The chat log is unavailable right now; nothing was deleted.")
    else:
        messages.success(request, f"Message {seq} deleted.")
