"""Django's own conditional-request tests, adapted to ``@conditional`` and ``HttpCacheMiddleware``.

Copyright (c) Django Software Foundation and individual contributors.
All rights reserved. Django is distributed under the BSD-3-Clause license; the tests in
this package are adapted from Django 5.2.19 (the ``django-5.2.19`` sdist from PyPI, the
stable/5.2.x branch): ``tests/conditional_processing/{tests,views,urls}.py`` and
``tests/middleware/{tests,cond_get_urls}.py``.
"""
