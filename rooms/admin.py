"""The Django admin for staff moderation. Every change goes through the services
(rooms.moderation, rooms.services, and messages.interface for messages), so the admin obeys
the same rules, writes the same audit log and has the same live effect as the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from rooms import moderation, services
from rooms.admin_messages import room_messages_view
from rooms.models import Membership, ModerationAction, Room


def _for_each(request, queryset, action, done: str) -> None:
    count = 0
    for obj in queryset:
        try:
            action(obj)
            count += 1
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, f"{obj}: {error}")
    messages.success(request, f"{done}: {count}.")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_private", "is_locked", "is_archived", "created_by", "created_at", "messages"]
    list_filter = ["is_private", "is_locked", "is_archived", "created_at"]
    search_fields = ["name", "slug", "topic", "created_by__username"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["is_locked", "is_archived", "created_at"]
    actions = ["lock", "unlock", "archive", "unarchive"]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # A new name or topic shows at once; a room made private closes outsiders' sockets.
        moderation.room_save_by_staff(room=obj, changed=form.changed_data)

    @admin.display(description="Messages")
    def messages(self, room: Room) -> str:
        return format_html('<a href="{}">Messages</a>', reverse("admin:rooms_room_messages", args=[room.pk]))

    def get_urls(self):
        return [
            path(
                "<int:room_id>/messages/",
                self.admin_site.admin_view(room_messages_view),
                name="rooms_room_messages",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Lock (read-only at once)")
    def lock(self, request, queryset):
        _for_each(
            request, queryset, lambda r: moderation.room_set_locked(room=r, actor=request.user, locked=True), "Locked"
        )

    @admin.action(description="Unlock")
    def unlock(self, request, queryset):
        _for_each(
            request,
            queryset,
            lambda r: moderation.room_set_locked(room=r, actor=request.user, locked=False),
            "Unlocked",
        )

    @admin.action(description="Archive")
    def archive(self, request, queryset):
        _for_each(
            request,
            queryset,
            lambda r: moderation.room_set_archived(room=r, actor=request.user, archived=True),
            "Archived",
        )

    @admin.action(description="Unarchive")
    def unarchive(self, request, queryset):
        _for_each(
            request,
            queryset,
            lambda r: moderation.room_set_archived(room=r, actor=request.user, archived=False),
            "Unarchived",
        )


class MembershipAdminForm(forms.ModelForm):
    banned = forms.BooleanField(required=False, help_text="Banning closes the user's open sockets in this room.")

    class Meta:
        model = Membership
        fields = ["room", "user", "role", "muted_until", "banned", "ban_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["banned"].initial = bool(self.instance.pk and self.instance.is_banned)

    def clean_muted_until(self):
        until = self.cleaned_data["muted_until"]
        if until is not None and until <= timezone.now() and "muted_until" in self.changed_data:
            raise forms.ValidationError("A mute must end in the future; clear the field to unmute.")
        return until


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "room", "role", "joined_at", "muted_until", "banned_at", "ban_reason"]
    list_filter = ["role", ("banned_at", admin.EmptyFieldListFilter), ("muted_until", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "room__name", "room__slug"]
    autocomplete_fields = ["user", "room"]
    readonly_fields = ["joined_at", "banned_at", "banned_by"]
    actions = ["unban", "unmute"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a membership to another room or user would bypass the rules; make a new one.
        return [*self.readonly_fields, "room", "user"] if obj else self.readonly_fields

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        room, username, actor = obj.room, obj.user.get_username(), request.user
        previous = Membership.objects.filter(pk=obj.pk).first() if change else None
        if previous is None:
            obj.pk = services.membership_add(room=room, actor=actor, username=username, role=obj.role).pk
            previous = Membership(room=room, user=obj.user)
        elif obj.role != previous.role:
            moderation.membership_set_role(room=room, actor=actor, username=username, role=obj.role)
        if obj.muted_until != previous.muted_until:
            if obj.muted_until:
                moderation.membership_mute(room=room, actor=actor, username=username, until=obj.muted_until)
            else:
                moderation.membership_unmute(room=room, actor=actor, username=username)
        banned = form.cleaned_data["banned"]
        if banned and not previous.is_banned:
            moderation.membership_ban(room=room, actor=actor, username=username, reason=obj.ban_reason)
        elif not banned and previous.is_banned:
            moderation.membership_unban(room=room, actor=actor, username=username)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.membership_delete(membership=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for membership in queryset.select_related("user"):
                services.membership_delete(membership=membership)

    @admin.action(description="Lift the ban")
    def unban(self, request, queryset):
        _for_each(
            request,
            queryset.select_related("room", "user"),
            lambda m: moderation.membership_unban(room=m.room, actor=request.user, username=m.user.username),
            "Unbanned",
        )

    @admin.action(description="Unmute")
    def unmute(self, request, queryset):
        _for_each(
            request,
            queryset.select_related("room", "user"),
            lambda m: moderation.membership_unmute(room=m.room, actor=request.user, username=m.user.username),
            "Unmuted",
        )


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the moderation services only."""

    list_display = ["created_at", "room", "actor", "kind", "target_user", "message_seq", "reason", "detail"]
    list_filter = ["kind", "created_at"]
    search_fields = ["room__name", "room__slug", "actor__username", "target_user__username", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
