vcl 4.1;

# Varnish 7 in front of the example project (`make demo-cdn`; docs/cdn.md explains it).
# Needs vmod-xkey (Debian: varnish-modules). The app, with HTTPCACHE_PURGE=varnish:
# - tags each catalog response with `xkey: catalog.product catalog.product.42 ...`;
# - gives it a day in this cache with `CDN-Cache-Control: max-age=86400, ...`;
# - after every commit sends `PURGE /` with `xkey-purge: <keys>` (or, with MODE "ban",
#   `BAN /` with `xkey-ban: <regex>`), answered here.
# Everything else is Varnish's builtin behaviour, which runs after these subroutines:
# requests with Authorization or Cookie are passed, responses that are private, no-store,
# no-cache or set a cookie are not stored.

import std;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
}

# Who may purge: the app's processes. Widen it to your app servers, never to the world.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-purge) {
            # Every object tagged with any of these keys (space separated) goes at once.
            return (synth(200, "Purged " + xkey.purge(req.http.xkey-purge)));
        }
        if (req.http.xkey-softpurge) {
            # Expired instead of removed: served stale within grace while refetched.
            return (synth(200, "Soft-purged " + xkey.softpurge(req.http.xkey-softpurge)));
        }
        return (purge);  # PURGE <url>: that URL's objects
    }
    if (req.method == "BAN") {
        # For a Varnish without vmod-xkey: a ban on the stored xkey header.
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-ban) {
            return (synth(400, "xkey-ban header missing"));
        }
        if (std.ban("obj.http.xkey ~ " + req.http.xkey-ban)) {
            return (synth(200, "Banned"));
        }
        return (synth(400, std.ban_error()));
    }
}

sub vcl_backend_response {
    # RFC 9213: CDN-Cache-Control, when present, is this cache's freshness instead of
    # Cache-Control's. The app writes it only where Cache-Control is shareable too; a
    # private or no-store Cache-Control still makes the object uncacheable in the
    # builtin code below. Without it, Varnish's own s-maxage/max-age handling applies.
    if (beresp.http.CDN-Cache-Control ~ "(^|,)\s*(no-store|private)\s*(,|$)") {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.http.CDN-Cache-Control ~ "(^|,)\s*max-age=[0-9]+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.CDN-Cache-Control, "^.*max-age=([0-9]+).*$", "\1s"), beresp.ttl);
        if (beresp.http.CDN-Cache-Control ~ "stale-while-revalidate=[0-9]+") {
            set beresp.grace = std.duration(
                regsub(beresp.http.CDN-Cache-Control, "^.*stale-while-revalidate=([0-9]+).*$", "\1s"), 0s);
        }
    }
}

sub vcl_deliver {
    # The keys are for this cache only: clients never see them.
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
