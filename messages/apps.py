from django.apps import AppConfig


class ChatMessagesConfig(AppConfig):
    name = "messages"
    # django.contrib.messages (which the admin needs) already owns the label "messages".
    label = "chat_messages"
    verbose_name = "Chat messages"

    def ready(self) -> None:
        from messages import access_stamps  # noqa: F401  (connects the change stamps)
