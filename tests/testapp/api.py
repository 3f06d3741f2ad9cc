"""DRF views for the tests."""

from __future__ import annotations

from collections import Counter

from rest_framework import generics, pagination, permissions, serializers, viewsets
from rest_framework.authentication import BasicAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.filters import BaseFilterBackend
from rest_framework.response import Response
from rest_framework.views import APIView

from django_httpcache.preconditions import Validators
from django_httpcache.rest_framework import CachePolicyMixin, ConditionalMixin
from django_httpcache.validators import for_values

from .models import Article, Tag

SERIALIZED: Counter[str] = Counter()


class ArticleSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Tag.objects.all(), required=False)

    class Meta:
        model = Article
        fields = ["id", "title", "body", "tags", "version", "updated_at"]
        read_only_fields = ["version", "updated_at"]

    def to_representation(self, instance):
        SERIALIZED["article"] += 1
        return super().to_representation(instance)


class Pages(pagination.PageNumberPagination):
    page_size = 2
    page_size_query_param = "page_size"


class TagFilter(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        tag = request.query_params.get("tag")
        return queryset.filter(tags__name=tag) if tag else queryset


class NotSecret(permissions.BasePermission):
    def has_object_permission(self, request, view, obj):
        return obj.title != "secret"


AUTH = [SessionAuthentication, BasicAuthentication, TokenAuthentication]


class ArticleViewSet(ConditionalMixin, viewsets.ModelViewSet):
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
    pagination_class = Pages
    filter_backends = [TagFilter]
    authentication_classes = AUTH
    permission_classes = [permissions.AllowAny, NotSecret]
    cache_policy = "catalog"
    cache_policies = {"mine": "user"}
    etag_dependencies = [Tag]  # the representation shows tag names

    def get_queryset(self):
        if self.action == "mine":
            return Article.objects.filter(owner=self.request.user)
        return super().get_queryset()

    @action(detail=False)
    def mine(self, request):
        return self.list(request)

    conditional_actions = {"list": "collection", "retrieve": "instance", "mine": "collection"}


class StrictArticleViewSet(ArticleViewSet):
    require_if_match = True


class PrivateDetailViewSet(ArticleViewSet):
    """Private on reads, no policy on writes: writes still compare with the GET's tag."""

    cache_policy = None
    cache_policies = {"retrieve": "user", "list": "catalog"}


class AggregateArticleViewSet(ArticleViewSet):
    version_mode = "aggregate"


class ArticleList(ConditionalMixin, generics.ListAPIView):
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
    pagination_class = None
    authentication_classes = AUTH
    permission_classes = [permissions.AllowAny]
    cache_policy = "catalog"
    etag_dependencies = [Tag]


class ArticleDetail(ConditionalMixin, generics.RetrieveUpdateDestroyAPIView):
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
    authentication_classes = AUTH
    permission_classes = [permissions.AllowAny]
    cache_policy = "catalog"
    etag_dependencies = [Tag]


class Profile(ConditionalMixin, APIView):
    """An APIView with its own validators."""

    authentication_classes = AUTH
    permission_classes = [permissions.IsAuthenticated]
    cache_policy = "user"

    def get_validators(self) -> Validators:
        user = self.request.user
        return for_values([user.pk, user.username], user.date_joined, self.variant())

    def get(self, request):
        SERIALIZED["profile"] += 1
        return Response({"username": request.user.username})


class Ping(CachePolicyMixin, APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    cache_policy = "sensitive"

    def get(self, request):
        return Response({"ok": True})


class PolicyProbe(CachePolicyMixin, APIView):
    """?policy=<name>&status=<code>: any policy, any status, through the DRF mixin."""

    authentication_classes = AUTH
    permission_classes = [permissions.AllowAny]

    def get_cache_policy(self, *, read=False):
        from django_httpcache.conf import conf

        return conf.policy(self.request.query_params.get("policy", "catalog"))

    def get(self, request):
        from tests.testapp.views import STATE

        response = Response({"user": str(request.user)}, status=int(request.query_params.get("status", 200)))
        if STATE.get("cookie"):
            response.set_cookie("flavour", "oatmeal")
        return response


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class TagViewSet(ConditionalMixin, viewsets.ModelViewSet):
    """A model without version fields: its tags come from the model's version."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    authentication_classes = AUTH
    permission_classes = [permissions.AllowAny]
    cache_policy = "catalog"


class RetrieveDependsViewSet(ArticleViewSet):
    etag_dependencies = {"retrieve": [Tag], "list": [Tag]}
