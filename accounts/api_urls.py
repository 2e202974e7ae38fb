from django.urls import path

from accounts import api

urlpatterns = [
    path("signup/", api.SignUpAPIView.as_view(), name="api-signup"),
    path("token/", api.TokenAPIView.as_view(), name="api-token"),
]
