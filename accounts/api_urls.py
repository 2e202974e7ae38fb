from django.urls import path

from accounts import api

urlpatterns = [
    path("signup/", api.SignUpAPIView.as_view(), name="api-signup"),
    path("token/", api.TokenAPIView.as_view(), name="api-token"),
    path("token/revoke/", api.TokenRevokeAPIView.as_view(), name="api-token-revoke"),
]
