"""CloudFront: CreateInvalidation (POST /2020-05-31/distribution/{id}/invalidation), SigV4."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from django_httpcache.cdn.backends import PurgeError, load_backend

DISTRIBUTION = "EDFDVBD6EXAMPLE"
KEYS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
NS = "{http://cloudfront.amazonaws.com/doc/2020-05-31/}"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(?P<date>\d{8})/us-east-1/cloudfront/aws4_request, "
    r"SignedHeaders=(?P<names>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})\Z"
)
CREATED = (
    201,
    {
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{DISTRIBUTION}/invalidation/I2J0I21PCUYOIK"
    },
    f'<?xml version="1.0"?><Invalidation xmlns="{NS[1:-1]}"><Id>I2J0I21PCUYOIK</Id>'
    "<Status>InProgress</Status></Invalidation>".encode(),
)


def signature_problem(seen):
    """Re-derive the SigV4 signature step by step from the request the server received."""
    match = AUTHORIZATION.match(seen.headers.get("Authorization", ""))
    if not match:
        return f"malformed Authorization: {seen.headers.get('Authorization')!r}"
    when = seen.headers["X-Amz-Date"]
    if not re.fullmatch(r"\d{8}T\d{6}Z", when) or when[:8] != match["date"]:
        return "X-Amz-Date missing or not the credential's date"
    names = match["names"].split(";")
    if not {"host", "x-amz-date"} <= set(names):
        return "host and x-amz-date must be signed"
    canonical = "\n".join(
        [
            "POST",
            quote(seen.path, safe="/-_.~"),
            "",
            "".join(f"{name}:{seen.headers[name].strip()}\n" for name in names),
            match["names"],
            hashlib.sha256(seen.body).hexdigest(),
        ]
    )
    scope = f"{match['date']}/us-east-1/cloudfront/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{when}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + KEYS["secret_access_key"]).encode()
    for part in (match["date"], "us-east-1", "cloudfront", "aws4_request"):
        key = hmac.new(key, part.encode(), "sha256").digest()
    expected = hmac.new(key, to_sign.encode(), "sha256").hexdigest()
    return None if hmac.compare_digest(expected, match["sig"]) else "SignatureDoesNotMatch"


def check(seen):
    """CreateInvalidation as documented: an InvalidationBatch whose Quantity counts its Paths."""
    if (seen.method, seen.path) != ("POST", f"/2020-05-31/distribution/{DISTRIBUTION}/invalidation"):
        return f"{seen.method} {seen.path}"
    root = ElementTree.fromstring(seen.body)
    if root.tag != f"{NS}InvalidationBatch" or not root.findtext(f"{NS}CallerReference"):
        return "an InvalidationBatch with a CallerReference is required"
    paths = [path.text for path in root.iterfind(f"{NS}Paths/{NS}Items/{NS}Path")]
    if root.findtext(f"{NS}Paths/{NS}Quantity") != str(len(paths)) or not paths:
        return "InconsistentQuantities"
    if not all(path.startswith(("/", "#")) for path in paths):
        return "InvalidArgument: a path starts with / (or # for a cache tag)"
    return signature_problem(seen)


def items(seen):
    return [path.text for path in ElementTree.fromstring(seen.body).iterfind(f"{NS}Paths/{NS}Items/{NS}Path")]


def cloudfront(api, **options):
    return load_backend("cloudfront", {**KEYS, "distribution_id": DISTRIBUTION, "endpoint": api.url, **options})


def error(code, status=400):
    body = f'<ErrorResponse xmlns="{NS[1:-1]}"><Error><Type>Sender</Type><Code>{code}</Code>'
    return status, body + "<Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>"


def test_urls_are_invalidated_by_path_and_query(fake_api):
    api = fake_api(check, CREATED)
    cloudfront(api).purge_urls(["https://www.example.com/products/", "https://www.example.com/api/products/?page=2"])
    (seen,) = api.seen
    assert items(seen) == ["/products/", "/api/products/?page=2"]
    assert seen.headers["Content-Type"] == "text/xml"


def test_every_request_has_a_new_caller_reference(fake_api):
    api = fake_api(check, CREATED)
    backend = cloudfront(api)
    backend.purge_urls(["https://a.example/x"])
    backend.purge_urls(["https://a.example/x"])
    references = {ElementTree.fromstring(seen.body).findtext(f"{NS}CallerReference") for seen in api.seen}
    assert len(references) == 2


def test_without_cache_tags_there_is_no_header_and_keys_need_a_mapping(fake_api):
    api = fake_api(check, CREATED)
    backend = cloudfront(api)
    assert backend.header is None
    with pytest.raises(NotImplementedError):
        backend.purge_keys(["catalog.product"])
    mapped = cloudfront(api, key_paths=lambda keys: [f"/{key.replace('.', '/')}/*" for key in keys])
    mapped.purge_keys(["catalog.product"])
    assert items(api.seen[0]) == ["/catalog/product/*"]


def test_with_cache_tags_keys_are_invalidated_as_hash_items(fake_api):
    api = fake_api(check, CREATED)
    backend = cloudfront(api, tag_header="Cache-Tag")
    assert (backend.header, backend.separator, backend.max_tags, backend.max_tag_bytes) == ("Cache-Tag", ",", 50, 256)
    assert backend.strips_header is False
    backend.purge_keys(["catalog.product", "catalog.product.3"])
    assert items(api.seen[0]) == ["#catalog.product", "#catalog.product.3"]


def test_a_session_token_is_sent_and_signed(fake_api):
    api = fake_api(check, CREATED)
    cloudfront(api, session_token="FwoGZXIvYXdzEXAMPLE").purge_urls(["https://a.example/x"])
    (seen,) = api.seen
    assert seen.headers["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLE"
    assert "x-amz-security-token" in seen.headers["Authorization"]


def test_credentials_come_from_the_environment_when_not_in_options(fake_api, monkeypatch):
    api = fake_api(check, CREATED)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS["secret_access_key"])
    load_backend("cloudfront", {"distribution_id": DISTRIBUTION, "endpoint": api.url}).purge_urls(["https://a/x"])
    assert len(api.seen) == 1


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("TooManyInvalidationsInProgress", 400, False),
        ("Throttling", 400, False),
        ("InvalidArgument", 400, True),
        ("AccessDenied", 403, True),
        ("ServiceUnavailable", 503, False),
    ],
)
def test_error_codes_decide_whether_to_retry(fake_api, code, status, permanent):
    api = fake_api(check, CREATED)
    api.answer(*error(code, status))
    with pytest.raises(PurgeError) as raised:
        cloudfront(api).purge_urls(["https://a.example/x"])
    assert raised.value.permanent is permanent and code in str(raised.value)
