from django.apps import AppConfig


class ChatMessagesConfig(AppConfig):
    name = "messages"
    # django.contrib.messages (which the admin needs) already owns the label "messages".
    label = "chat_messages"
    verbose_name = "Chat messages"
