"""DRF views over the shapes. They declare no dependencies unless the item is about them."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework import generics, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from django_httpcache.rest_framework import ConditionalMixin

from .models import Author, Book, Counted, Label, Sku


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class DottedBookSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.name", read_only=True)

    class Meta:
        model = Book
        fields = ["id", "title", "author"]


class NestedBookSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)

    class Meta:
        model = Book
        fields = ["id", "title", "author"]


class MethodBookSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "labels"]

    def get_labels(self, obj):
        return [label.name for label in obj.labels.all()]


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name"]


class CountedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Counted
        fields = ["id", "code", "name", "version"]
        read_only_fields = ["version"]


class SkuSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = ["id", "code", "name", "version"]
        read_only_fields = ["version"]


class Open:
    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    cache_policy = "catalog"


class DottedBooks(Open, ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Book.objects.all()
    serializer_class = DottedBookSerializer


class NestedBooks(DottedBooks):
    serializer_class = NestedBookSerializer


class MethodBooks(DottedBooks):
    serializer_class = MethodBookSerializer


class CountedViewSet(Open, ConditionalMixin, viewsets.ModelViewSet):
    queryset = Counted.objects.all()
    serializer_class = CountedSerializer


class CountedWithLabels(CountedViewSet):
    """The one view that declares a dependency (item 3c/3d)."""

    etag_dependencies = [Label]


class StrictCounted(CountedViewSet):
    require_if_match = True


class SkuViewSet(Open, ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Sku.objects.all()
    serializer_class = SkuSerializer


# -- item 6: a write lands between the row's SELECT and the version read -----------------

AFTER_FETCH: list[Callable[[], None]] = []


class HookAfterFetch:
    def get_object(self):
        obj = super().get_object()  # type: ignore[misc]
        while AFTER_FETCH:
            AFTER_FETCH.pop()()
        return obj


class RacyBook(Open, ConditionalMixin, HookAfterFetch, generics.RetrieveAPIView):
    queryset = Book.objects.select_related("author")
    serializer_class = DottedBookSerializer
    etag_dependencies = [Author]  # so that today's code reads Author's version at all


# -- item 10: a permission check after the lookup ----------------------------------------------


class RevokedBook(Open, ConditionalMixin, generics.RetrieveAPIView):
    queryset = Book.objects.all()
    serializer_class = DottedBookSerializer

    def get_object(self):
        obj = super().get_object()
        if self.request.headers.get("X-Revoked"):
            raise PermissionDenied("revoked")
        return obj


# -- item 12: querysets the aggregate cannot take as they are -----------------------------------


class Labels(Open, ConditionalMixin, generics.ListAPIView):
    serializer_class = LabelSerializer
    pagination_class = None


class NoLabels(Labels):
    def get_queryset(self):
        return Label.objects.none()


class LabelsByIds(Labels):
    def get_queryset(self):
        ids = [int(i) for i in self.request.query_params.get("ids", "").split(",") if i]
        return Label.objects.filter(pk__in=ids)


class SkuRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class SkuUnion(Labels):
    serializer_class = SkuRowSerializer

    def get_queryset(self):
        rows = Sku.objects.values("code", "name")
        return rows.filter(name="a").union(rows.filter(name="b"))


class LabelsAsList(Labels):
    def get_queryset(self):
        return list(Label.objects.all())
