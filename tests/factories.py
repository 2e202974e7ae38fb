import factory
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from rooms.models import Membership, Room

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, password=kwargs.pop("password", PASSWORD), **kwargs)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"room-{n}")
    name = factory.Sequence(lambda n: f"Room {n}")
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def owner_membership(obj, create, extracted, **kwargs):
        if create and obj.created_by_id:
            Membership.objects.get_or_create(room=obj, user=obj.created_by, defaults={"role": Membership.Role.OWNER})


def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key
