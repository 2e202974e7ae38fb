"""Every server-rendered form refuses a POST without a CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("url_name", ["accounts:signup", "accounts:login"])
def test_anonymous_forms_reject_a_missing_csrf_token(csrf_client, url_name):
    response = csrf_client.post(
        reverse(url_name), {"username": "u", "password": PASSWORD, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("url_name", ["rooms:join", "rooms:leave", "rooms:member-add", "rooms:member-remove"])
def test_room_forms_reject_a_missing_csrf_token(csrf_client, url_name):
    user = UserFactory()
    room = RoomFactory(created_by=user)
    csrf_client.force_login(user)
    response = csrf_client.post(reverse(url_name, args=[room.slug]), {"username": "someone"})
    assert response.status_code == 403


def test_create_room_and_log_out_reject_a_missing_csrf_token(csrf_client):
    csrf_client.force_login(UserFactory())
    assert csrf_client.post(reverse("rooms:create"), {"name": "x"}).status_code == 403
    assert csrf_client.post(reverse("accounts:logout")).status_code == 403


def test_a_form_with_its_token_is_accepted(csrf_client):
    csrf_client.force_login(UserFactory())
    page = csrf_client.get(reverse("rooms:create"))
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(reverse("rooms:create"), {"name": "With token", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
