"""JSON sign-up and token endpoints for clients that are not browsers."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttling import AuthRateThrottle
from accounts.tokens import token_for_user
from chatproject.api_errors import error_responses

User = get_user_model()


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})


class SignUpSerializer(CredentialsSerializer):
    def validate_username(self, value: str) -> str:
        User.username_validator(value)
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate(self, attrs):
        try:
            validate_password(attrs["password"], User(username=attrs["username"]))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = serializers.DictField()


def _token_response(user, status_code: int) -> Response:
    return Response(
        {"token": token_for_user(user=user), "user": {"id": user.pk, "username": user.get_username()}},
        status=status_code,
    )


class SignUpAPIView(APIView):
    """Create an account and return its API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth"
    serializer_class = SignUpSerializer

    @extend_schema(request=SignUpSerializer, responses={201: TokenResponseSerializer, **error_responses(400, 429)})
    def post(self, request):
        serializer = SignUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = User.objects.create_user(
            username=serializer.validated_data["username"], password=serializer.validated_data["password"]
        )
        return _token_response(user, status.HTTP_201_CREATED)


class TokenAPIView(APIView):
    """Exchange a username and password for the user's API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth"
    serializer_class = CredentialsSerializer

    @extend_schema(request=CredentialsSerializer, responses={200: TokenResponseSerializer, **error_responses(400, 429)})
    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            return Response(
                {"detail": "Unable to log in with the provided credentials."}, status=status.HTTP_400_BAD_REQUEST
            )
        return _token_response(user, status.HTTP_200_OK)


class TokenRevokeAPIView(APIView):
    """Revoke the caller's token (log a bot out). The next token request issues a new one."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
