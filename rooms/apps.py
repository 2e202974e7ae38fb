from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"

    def ready(self) -> None:
        from rooms import access_stamps  # noqa: F401  (connects the change stamps)
