"""Client credentials for the mock: make an Ed25519 client secret the way
ConductorOne hands them out, and check a client assertion (a compact JWS) against
the rules of the service-mode document, section 1."""

import base64
import json
import re
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SECRET_PREFIX = "secret-token:conductorone.com:v1:"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW = 5  # seconds of leeway when checking nbf/iat/exp against the mock's clock


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if "=" in text or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_json(private_key, kid=None, include_d=True):
    raw_pub = private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_pub)}
    if include_d:
        jwk["d"] = b64url(private_key.private_bytes(serialization.Encoding.Raw,
                                                    serialization.PrivateFormat.Raw,
                                                    serialization.NoEncryption()))
    if kid:
        jwk["kid"] = kid
    return jwk


def secret_for_jwk(jwk, prefix=SECRET_PREFIX):
    return prefix + b64url(json.dumps(jwk, separators=(",", ":")).encode("utf-8"))


def new_secret(kid=None):
    """A fresh (client secret string, public key x as base64url) pair."""
    jwk = jwk_json(Ed25519PrivateKey.generate(), kid)
    return secret_for_jwk(jwk), jwk["x"]


def client_id_host(client_id):
    """The <host> of <name>@<host>/<suffix>, without any :port (the JWT aud)."""
    host = client_id.split("@", 1)[1].split("/", 1)[0]
    return host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host


class AssertionChecker:
    """Checks assertions for one client id and public key; remembers nonces."""

    def __init__(self, client_id, public_x, kid=None):
        self.client_id = client_id
        self.public = Ed25519PublicKey.from_public_bytes(b64url_decode(public_x))
        self.kid = kid
        self.audience = client_id_host(client_id)
        self.nonces = set()

    def check(self, jws, now=None):
        """Return a list of problems (empty when the assertion is good)."""
        now = time.time() if now is None else now
        parts = jws.split(".")
        if len(parts) != 3:
            return ["assertion has %d parts, not 3" % len(parts)]
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except ValueError as e:
            return ["assertion part does not decode: %s" % e]
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return ["assertion header or payload is not a JSON object"]
        problems = self._signature(parts, signature) + self._header(header)
        return problems + self._claims(claims, now)

    def _signature(self, parts, signature):
        try:
            self.public.verify(signature, (parts[0] + "." + parts[1]).encode("ascii"))
            return []
        except InvalidSignature:
            return ["EdDSA signature does not verify with the client's public key"]

    def _header(self, header):
        problems = []
        if header.get("alg") != "EdDSA":
            problems.append("header alg is %r, not EdDSA" % header.get("alg"))
        nonce = header.get("nonce")
        if not isinstance(nonce, str) or not re.fullmatch(r"[0-9a-f]{32}", nonce):
            problems.append("header nonce is not 32 lowercase hex characters")
        elif nonce in self.nonces:
            problems.append("header nonce reused")
        else:
            self.nonces.add(nonce)
        for banned in ("typ", "jwk"):
            if banned in header:
                problems.append("header has %r" % banned)
        if header.get("kid") != self.kid:
            problems.append("header kid is %r, expected %r" % (header.get("kid"), self.kid))
        return problems

    def _claims(self, claims, now):
        problems = []
        for name in ("iss", "sub"):
            if claims.get(name) != self.client_id:
                problems.append("claim %s is %r, not the client id" % (name, claims.get(name)))
        aud = claims.get("aud")
        if not (aud == self.audience or aud == [self.audience]):
            problems.append("claim aud is %r, expected %r" % (aud, self.audience))
        if "jti" in claims:
            problems.append("claim jti present")
        times = [claims.get(n) for n in ("iat", "nbf", "exp")]
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in times):
            return problems + ["claims iat/nbf/exp are not all integers: %r" % times]
        iat, nbf, exp = times
        if exp - nbf != 240 or iat - nbf != 120:
            problems.append("nbf/iat/exp are not now-120/now/now+120: %r" % times)
        if not nbf - CLOCK_SKEW <= now <= exp + CLOCK_SKEW:
            problems.append("now is outside [nbf, exp]")
        return problems
