from django.contrib import admin

from rooms.models import Membership, Room


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "banned_by"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_private", "is_locked", "is_archived", "created_by", "created_at"]
    list_filter = ["is_private", "is_locked", "is_archived"]
    search_fields = ["name", "slug", "topic"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "role", "joined_at", "muted_until", "banned_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "room__name", "room__slug"]
    autocomplete_fields = ["user", "room", "banned_by"]
