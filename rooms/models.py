from django.conf import settings
from django.db import models
from django.utils import timezone

ROOM_NAME_MAX_LENGTH = 80
ROOM_TOPIC_MAX_LENGTH = 300
ROOM_SLUG_MAX_LENGTH = 64
BAN_REASON_MAX_LENGTH = 500


class Room(models.Model):
    slug = models.SlugField(max_length=ROOM_SLUG_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=ROOM_NAME_MAX_LENGTH)
    topic = models.CharField(max_length=ROOM_TOPIC_MAX_LENGTH, blank=True)
    is_private = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="rooms_created"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Locked: readable, nobody can post. Archived: locked and hidden from the public list.
    is_locked = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_read_only(self) -> bool:
        return self.is_locked or self.is_archived


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MODERATOR = "moderator", "Moderator"
        MEMBER = "member", "Member"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    muted_until = models.DateTimeField(null=True, blank=True)
    # A ban keeps the row (so leaving cannot lift it); a banned user is no longer a member.
    banned_at = models.DateTimeField(null=True, blank=True)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="bans_issued"
    )
    ban_reason = models.CharField(max_length=BAN_REASON_MAX_LENGTH, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="unique_membership_per_room")]

    def __str__(self) -> str:
        return f"{self.user} in {self.room} ({self.role})"

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None


class ModerationAction(models.Model):
    """The audit log: who did what to whom in which room, when and why. Never edited."""

    class Kind(models.TextChoices):
        DELETE_MESSAGE = "delete_message", "Deleted a message"
        MUTE = "mute", "Muted"
        UNMUTE = "unmute", "Unmuted"
        BAN = "ban", "Banned"
        UNBAN = "unban", "Unbanned"
        LOCK = "lock", "Locked the room"
        UNLOCK = "unlock", "Unlocked the room"
        ARCHIVE = "archive", "Archived the room"
        UNARCHIVE = "unarchive", "Unarchived the room"
        SET_ROLE = "set_role", "Changed a role"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="moderation_actions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="moderation_actions"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderated"
    )
    message_seq = models.PositiveBigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=BAN_REASON_MAX_LENGTH, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_kind_display().lower()} in {self.room}"
