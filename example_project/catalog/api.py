"""The example's REST API (a contract: outside tests call these URLs)."""

from rest_framework import generics, pagination, permissions, serializers, viewsets
from rest_framework.filters import BaseFilterBackend
from rest_framework.response import Response
from rest_framework.views import APIView

from django_httpcache.rest_framework import CachePolicyMixin, ConditionalMixin

from .models import Category, Product, Tag


class ProductSerializer(serializers.ModelSerializer):
    """``name`` and ``description`` read in the active language (Accept-Language: fr gives
    the French ones when set); writes set the English ones, ``name_fr`` and
    ``description_fr`` the French ones."""

    category_name = serializers.CharField(source="category.name", read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "name_fr",
            "description_fr",
            "price",
            "category",
            "category_name",
            "tags",
            "version",
            "updated_at",
        ]
        read_only_fields = ["version", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["name"], data["description"] = instance.local_name, instance.local_description
        return data


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "slug"]


class ProductPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


class CategoryFilter(BaseFilterBackend):
    """``?category=<slug>``: a lazy filter, so a counter-mode 304 still runs no query."""

    def filter_queryset(self, request, queryset, view):
        slug = request.query_params.get("category")
        return queryset.filter(category__slug=slug) if slug else queryset


class ProductViewSet(ConditionalMixin, viewsets.ModelViewSet):
    # The representation shows the category's name and the tag names, and ?category=
    # filters on category slugs: no dependency is declared, the app observes the
    # related models (Category, Tag) the view's queries read and covers them too.
    queryset = Product.objects.select_related("category").prefetch_related("tags")
    serializer_class = ProductSerializer
    pagination_class = ProductPagination
    filter_backends = [CategoryFilter]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    cache_policy = "catalog"
    require_if_match = True  # PUT/PATCH/DELETE without If-Match: 428


class CategoryList(generics.ListAPIView):
    """No model versions here: the middleware's body hash gives the ETag."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    pagination_class = None


class TagList(ConditionalMixin, generics.ListAPIView):
    """Every tag, one page: validators from the Tag versions."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    pagination_class = None
    cache_policy = "catalog"


class MeView(CachePolicyMixin, APIView):
    """The signed-in user's profile: private, revalidated every time."""

    permission_classes = [permissions.IsAuthenticated]
    cache_policy = "user"

    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email})


class PingView(CachePolicyMixin, APIView):
    """The cheapest DRF view: the floor benchmarks compare against."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    cache_policy = "sensitive"

    def get(self, request):
        return Response({"ok": True})
