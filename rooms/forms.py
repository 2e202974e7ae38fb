from django import forms

from rooms.models import ROOM_NAME_MAX_LENGTH, ROOM_TOPIC_MAX_LENGTH


class RoomCreateForm(forms.Form):
    name = forms.CharField(max_length=ROOM_NAME_MAX_LENGTH, strip=True)
    topic = forms.CharField(max_length=ROOM_TOPIC_MAX_LENGTH, required=False, strip=True)
    is_private = forms.BooleanField(required=False, label="Private (members only)")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True)
