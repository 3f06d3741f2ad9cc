"""EdgeGrid and SigV4 signers against the example vectors Akamai and AWS publish."""

from __future__ import annotations

import pytest

from django_httpcache.cdn.backends import edgegrid, sigv4

# Akamai's EdgeGrid test data (AkamaiOPEN-edgegrid-python, akamai/edgegrid/test/testdata.json).
EG = {
    "client_token": "akab-client-token-xxx-xxxxxxxxxxxxxxxx",
    "access_token": "akab-access-token-xxx-xxxxxxxxxxxxxxxx",
    "client_secret": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=",
    "when": "20140321T19:34:21+0000",
    "nonce": "nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "headers_to_sign": ["X-Test1", "X-Test2", "X-Test3"],
    "max_body": 2048,
}
EG_BASE = "https://akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net"
EG_PREFIX = (
    "EG1-HMAC-SHA256 client_token=akab-client-token-xxx-xxxxxxxxxxxxxxxx;"
    "access_token=akab-access-token-xxx-xxxxxxxxxxxxxxxx;timestamp=20140321T19:34:21+0000;"
    "nonce=nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx;signature="
)


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "signature"),
    [
        ("GET", "/", b"", {}, "tL+y4hxyHxgWVD30X3pWnGKHcPzmrIF+LThiAOhMxYU="),
        ("GET", "/testapi/v1/t1?p1=1&p2=2", b"", {}, "hKDH1UlnQySSHjvIcZpDMbQHihTQ0XyVAKZaApabdeA="),
        ("POST", "/testapi/v1/t3", b"data" * 8, {}, "hXm4iCxtpN22m4cbZb4lVLW5rhX8Ca82vCFqXzSTPe4="),
        ("POST", "/testapi/v1/t3", b"d" * 2048, {}, "6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY="),
        # only the first max_body bytes are hashed: a longer body signs the same
        ("POST", "/testapi/v1/t3", b"d" * 3000, {}, "6Q6PiTipLae6n4GsSIDTCJ54bEbHUBp+4MUXrbQCBoY="),
        ("POST", "/testapi/v1/t6", b"", {}, "1gEDxeQGD5GovIkJJGcBaKnZ+VaPtrc4qBUHixjsPCQ="),
        (
            "GET",
            "/testapi/v1/t4",
            b"",
            {"X-Test1": "test-simple-header"},
            "8F9AybcRw+PLxnvT+H0JRkjROrrUgsxJTnRXMzqvcwY=",
        ),
        (
            "GET",
            "/testapi/v1/t4",
            b"",
            {"X-Test1": '"     test-header-with-spaces     "'},
            "ucq2AbjCNtobHfCTuS38fdkl5UDdWHZhQX46fYR8CqI=",
        ),
        (
            "GET",
            "/testapi/v1/t4",
            b"",
            {"X-Test2": "t2", "X-Test1": "t1", "X-Test3": "t3"},
            "Wus73Nx8jOYM+kkBFF2q8D1EATRIMr0WLWwpLBgkBqY=",
        ),
        (
            "GET",
            "/testapi/v1/t5",
            b"",
            {"X-Test2": "t2", "X-Test1": "t1", "X-Test3": "t3", "X-Extra": "this won't be included"},
            "Knd/jc0A5Ghhizjayr0AUUvl2MZjBpS3FDSzvtq4Ixc=",
        ),
        # only POST bodies are hashed
        ("PUT", "/testapi/v1/t6", b"P" * 31, {}, "GNBWEYSEWOLtu+7dD52da2C39aX/Jchpon3K/AmBqBU="),
    ],
)
def test_edgegrid_matches_akamais_vectors(method, path, body, headers, signature):
    header = edgegrid.authorization(method, EG_BASE + path, body=body, headers=headers, **EG)
    assert header == EG_PREFIX + signature


def test_edgegrid_timestamp_format():
    assert edgegrid.timestamp(1395430461) == "20140321T19:34:21+0000"


# AWS's Signature Version 4 test suite (constants from its README) and the documented
# derived-key example (IAM, 20120215).
AWS = {
    "access_key": "AKIDEXAMPLE",
    "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "region": "us-east-1",
    "service": "service",
    "when": "20150830T123600Z",
}
SCOPE = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "expected"),
    [
        (
            "GET",
            "https://example.amazonaws.com/",
            {},
            b"",
            "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "GET",
            "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            {},
            b"",
            "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        (
            "POST",
            "https://example.amazonaws.com/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"Param1=value1",
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        ),
    ],
)
def test_sigv4_matches_the_aws_test_suite(method, url, headers, body, expected):
    signed = sigv4.sign(method, url, headers, body, **AWS)
    assert signed["Authorization"] == SCOPE + expected
    assert (signed["X-Amz-Date"], signed["Host"]) == ("20150830T123600Z", "example.amazonaws.com")


def test_sigv4_signing_key_matches_the_documented_derivation():
    key = sigv4.signing_key(AWS["secret_key"], "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_sigv4_date_format():
    assert sigv4.amz_date(1440938160) == "20150830T123600Z"
