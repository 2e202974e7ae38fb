import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory, token_for

pytestmark = pytest.mark.django_db


def test_sign_up_logs_the_new_user_in(client):
    response = client.post(
        reverse("accounts:signup"), {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("rooms:list")).context["user"].username == "newcomer"


def test_sign_up_with_mismatched_passwords_shows_the_error(client):
    response = client.post(reverse("accounts:signup"), {"username": "x", "password1": PASSWORD, "password2": "other"})
    assert response.status_code == 400
    assert "didn’t match" in response.content.decode()
    assert not get_user_model().objects.filter(username="x").exists()


def test_log_out_and_back_in(client):
    user = UserFactory()
    assert client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("rooms:list")).status_code == 302  # back to the login page
    client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert client.get(reverse("rooms:list")).status_code == 200


def test_api_sign_up_returns_a_token_that_authenticates(client):
    response = client.post(
        "/api/auth/signup/", {"username": "bot", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert Client().get("/api/rooms/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert Client().get("/api/rooms/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_api_sign_up_rejects_a_weak_password_field_by_field(client):
    response = client.post("/api/auth/signup/", {"username": "bot", "password": "123"}, content_type="application/json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_api_token_for_valid_credentials_only(client):
    user = UserFactory()
    good = client.post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert good.status_code == 200 and good.json()["token"] == token_for(user)
    bad = client.post(
        "/api/auth/token/", {"username": user.username, "password": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "token" not in bad.json()


def test_a_wrong_token_is_refused(client):
    assert client.get("/api/rooms/", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_api_requires_authentication(client):
    response = client.get("/api/rooms/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_stops_working(client):
    user = UserFactory()
    token = token_for(user)
    assert client.delete("/api/auth/token/revoke/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204
    assert client.get("/api/rooms/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert token_for(user) != token
