vcl 4.1;

# Varnish in front of the example project, for tests/e2e/test_varnish.py.
# The test fills in the placeholders (a name between at signs): BACKEND_PORT, the port of
# the gunicorn under test, and TTL, the freshness lifetime it wants (a couple of seconds).
#
# Only two things differ from Varnish's builtin behaviour, and neither touches what the
# origin's safety relies on: requests with Authorization or Cookie are still passed by the
# builtin vcl_recv, and responses that are private/no-cache/no-store or set a cookie are
# still made uncacheable by the builtin vcl_backend_response, which runs after ours.
#
# 1. Freshness is cut to TTL (from the catalog's s-maxage=600), with no grace (the origin's
#    stale-while-revalidate=30 would become grace) and 60 s of keep. A test sees the copy go
#    stale within seconds, and Varnish then revalidates synchronously with If-None-Match /
#    If-Modified-Since instead of refetching, so the origin can answer 304.
# 2. Headers for the tests to read: X-Cache (HIT/MISS) on every delivery, and
#    X-Backend-304 (true/false) telling whether the stored object was last refreshed by a
#    304 from the origin.

backend default {
    .host = "127.0.0.1";
    .port = "@BACKEND_PORT@";
    .connect_timeout = 5s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 30s;
}

sub vcl_backend_response {
    # Only what the origin already made storable (ttl > 0) gets the short lifetime; 0 s
    # or less stays uncacheable, as the builtin code below decides.
    if (beresp.ttl > 0s) {
        set beresp.ttl = @TTL@;
        set beresp.grace = 0s;
        set beresp.keep = 60s;
    }
    set beresp.http.X-Backend-304 = beresp.was_304;
    # No return: the builtin vcl_backend_response runs next (Set-Cookie, Cache-Control
    # private/no-cache/no-store, Vary: * all become hit-for-miss there).
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
