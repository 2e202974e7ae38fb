"""The message object and the parameters of the history API (messages.api.history)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from messages.realtime import protocol

HISTORY_MAX_LIMIT = 100
HISTORY_DEFAULT_LIMIT = 50


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    """The message object of the WebSocket protocol (docs/protocol.md)."""

    id = serializers.CharField()
    seq = serializers.IntegerField()
    room = serializers.CharField()
    author = AuthorSerializer()
    body = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    client_id = serializers.CharField()
    deleted_at = serializers.DateTimeField(allow_null=True)


class HistoryQuerySerializer(serializers.Serializer):
    before = serializers.IntegerField(required=False, min_value=1, max_value=protocol.SEQ_MAX)
    after = serializers.IntegerField(required=False, min_value=0, max_value=protocol.SEQ_MAX)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT
    )

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError({"before": "Give either 'before' or 'after', not both."})
        return attrs


class StrictCharField(serializers.CharField):
    """A string, and only a string: JSON numbers are not silently turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PostMessageSerializer(serializers.Serializer):
    client_id = StrictCharField(min_length=1, max_length=protocol.CLIENT_ID_MAX_LENGTH, trim_whitespace=False)
    body = StrictCharField(trim_whitespace=False, allow_blank=True, max_length=settings.CHAT_MAX_FRAME_BYTES)

    def validate_client_id(self, value: str) -> str:
        return _protocol_validated(protocol.validate_client_id, value)

    def validate_body(self, value: str) -> str:
        return _protocol_validated(protocol.validate_body, value)


def _protocol_validated(validator, value):
    # The API applies exactly the WebSocket protocol's rules, with the same messages.
    try:
        return validator(value)
    except protocol.ProtocolError as error:
        raise serializers.ValidationError(error.detail, code=error.code) from None
