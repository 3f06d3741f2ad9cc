from django.urls import include, path

from tests.testapp import views

rule_patterns = (
    [
        path("by-name/", views.rule_by_name, name="by-name"),
        path("by-view/", views.rule_by_view),
        path("static/app.css", views.rule_static),
    ],
    "rules",
)

urlpatterns = [
    path("catalog/", views.catalog),
    path("async-catalog/", views.async_catalog),
    path("inline/", views.inline),
    path("user/", views.user_page),
    path("shared-anyway/", views.shared_anyway),
    path("localized/", views.localized),
    path("sensitive/", views.sensitive),
    path("static/", views.static),
    path("unknown-policy/", views.unknown_policy),
    path("cond/", views.cond),
    path("cond/<int:pk>/", views.cond),
    path("cond-outer/", views.cond_outer),
    path("cond-representation/", views.cond_representation),
    path("async-cond/", views.async_cond),
    path("async-cond-sync-callables/", views.async_cond_sync_callables),
    path("sync-cond-async-callable/", views.sync_cond_async_callable),
    path("etag-only/", views.etag_only),
    path("modified-only/", views.modified_only),
    path("require-if-match/", views.require_if_match),
    path("private-cond/", views.private_cond),
    path("guarded/", views.guarded),
    path("conformance/sync/", views.conformance_sync),
    path("conformance/async/", views.conformance_async),
    path("guarded-in-callable/", views.guarded_in_callable),
    path("cbv/<int:pk>/", views.ProductView.as_view()),
    path("async-cbv/<int:pk>/", views.AsyncProductView.as_view()),
    path("plain/", views.plain),
    path("async-plain/", views.async_plain),
    path("streaming/", views.streaming),
    path("view-etag/", views.view_etag),
    path("big/", views.big),
    path("touches-session/", views.touches_session),
    path("rules/", include(rule_patterns)),
    path("shapes/", include("tests.shapes.urls")),
    path("store/", include("tests.store_app")),
    path("", include("catalog.urls")),
]

from rest_framework.routers import SimpleRouter  # noqa: E402

from tests.testapp import api  # noqa: E402

router = SimpleRouter()
router.register("articles", api.ArticleViewSet, basename="article")
router.register("strict-articles", api.StrictArticleViewSet, basename="strict-article")
router.register("private-articles", api.PrivateDetailViewSet, basename="private-article")
router.register("tags", api.TagViewSet, basename="tag")
router.register("retrieve-depends", api.RetrieveDependsViewSet, basename="retrieve-depends")
router.register("aggregate-articles", api.AggregateArticleViewSet, basename="aggregate-article")

urlpatterns += [
    path("api/", include((router.urls, "api"))),
    path("api/article-list/", api.ArticleList.as_view()),
    path("api/article-detail/<int:pk>/", api.ArticleDetail.as_view()),
    path("api/profile/", api.Profile.as_view()),
    path("api/ping/", api.Ping.as_view()),
    path("api/policy/", api.PolicyProbe.as_view()),
]
