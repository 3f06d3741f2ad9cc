"""Django's ``tests/conditional_processing/urls.py`` (5.2.19), async views. BSD-3-Clause:
Copyright (c) Django Software Foundation and individual contributors."""

from .views import urlpatterns_for

urlpatterns = urlpatterns_for("async")
