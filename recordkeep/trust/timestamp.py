"""Trusted timestamps (可信时间戳, RFC 3161) over a checkpoint file, with rfc3161-client.

The request asks for a token over SHA-256 of the whole checkpoint file, with ``certReq`` and a
nonce; the reply (a DER TimeStampResp) is kept whole as ``<size>.tsr`` and verified against
the TSA's CA certificate: the token must be over these bytes and chain to that CA.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .. import errors
from ..i18n import _
from ..refs import public_url
from ..store import fs

TIMEOUT_S = 30
IMPRINTS = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
            "2.16.840.1.101.3.4.2.3": "sha512"}  # the hashes a token's message imprint may use


def fetch(url: str, data: bytes) -> bytes:
    """Ask the TSA at ``url`` for a token over ``data`` (SHA-256, certReq, a nonce) and return
    its whole reply once it answers this request (its nonce); TsaUnreachable when it cannot
    be asked or refuses, TokenUnreadable or TokenUntrusted for a reply that is not an answer."""
    import urllib.error  # here, not at the top: only a checkpoint with a TSA asks over HTTP
    import urllib.request

    from rfc3161_client import HashAlgorithm, PKIStatus, TimestampRequestBuilder

    asked = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).nonce(nonce=True) \
        .cert_request(cert_request=True).build()
    post = urllib.request.Request(url, data=asked.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(post, timeout=TIMEOUT_S) as reply:
            token = reply.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise errors.TsaUnreachable(_("the timestamp authority did not answer: {error}").format(
            error=getattr(exc, "reason", exc)), path=public_url(url)) from exc
    response = _decode(token)
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise errors.TsaUnreachable(_("the timestamp authority refused: status {status} {text}").format(
            status=response.status, text=" ".join(response.status_string)), path=public_url(url))
    if response.tst_info.nonce != asked.nonce:
        raise errors.TokenUntrusted(_("the timestamp authority answered another request (its nonce differs)"),
                                    path=public_url(url))
    return token


def _decode(token: bytes):
    from rfc3161_client import decode_timestamp_response

    try:
        return decode_timestamp_response(token)
    except (ValueError, TypeError) as exc:
        raise errors.TokenUnreadable(_("the timestamp token does not parse ({error})").format(
            error=exc)) from exc


def verify(token: bytes, data: bytes, ca_pem: bytes) -> str:
    """The time the token states for ``data`` (ISO 8601), once it is verified against the CA:
    TokenUnreadable, TokenUntrusted (another CA, or not over ``data``) otherwise."""
    from cryptography import x509
    from rfc3161_client import VerificationError, VerifierBuilder

    response = _decode(token)
    try:
        ca = x509.load_pem_x509_certificate(ca_pem)
    except ValueError as exc:
        raise errors.ConfigError(_("the TSA's CA certificate does not parse ({error})").format(
            error=exc)) from exc
    info = response.tst_info
    algorithm = IMPRINTS.get(info.message_imprint.hash_algorithm.dotted_string)
    if algorithm is None or info.message_imprint.message != hashlib.new(algorithm, data).digest():
        raise errors.TokenUntrusted(_("the timestamp token is over other bytes than this checkpoint"))
    try:
        VerifierBuilder().add_root_certificate(ca).build().verify_message(response, data)
    except VerificationError as exc:
        raise errors.TokenUntrusted(_("the timestamp token does not verify under the TSA's CA "
                                      "({error})").format(error=exc)) from exc
    return info.gen_time.isoformat()


def read_ca(path: str | Path, *, given: bool = False) -> bytes:
    """The CA certificate's bytes; InvalidPath when ``given`` on the command line (--tsa-ca),
    ConfigError when read from the settings file, either when it cannot be read."""
    try:
        return fs.read_regular(path, fs.GIVEN_LIMIT)
    except OSError as exc:
        message = _("the TSA's CA certificate cannot be read: {error}").format(error=exc.strerror)
        if given:
            hint = _("give --tsa-ca the CA certificate file the TSA publishes")
            raise errors.InvalidPath(message, path=path, hint=hint) from exc
        raise errors.ConfigError(message, path=path) from exc
