#!/usr/bin/python3
"""Mock Twingate Admin GraphQL API.

A loopback HTTP server that answers POST /api/graphql/ the way Twingate's
graphene-django backend does (see /work/shared/twingate-api.md): real GraphQL
parsing, validation and execution against vendor/twingate/schema.graphql with
graphql-core 2.3, Relay offset cursors, a page of 50 by default and at most 100,
base64 "Type:n" ids, Python isoformat timestamps, ASCII-escaped JSON, the user
and group mutations with realistic refusals, per-class rate limits answering
429 + Retry-After, and fault injection (502, 503 with HTML, truncated bodies).

Ground truth and runtime control live under /_mock/ (loopback, no auth).
Run with --help for the options; README.md in this directory has an overview.
Only the Python 3 standard library and Debian's python3-graphql-core 2.3 are
used.
"""

import argparse
import base64
import bisect
import collections
import datetime
import email.utils
import json
import logging
import math
import os
import re
import signal
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from graphql import build_ast_schema, execute, parse, validate
from graphql.error import GraphQLError, format_error
from graphql.language import ast as gast

import mock_changes

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(
    os.path.join(HERE, "..", "..", "vendor", "twingate", "schema.graphql"))
DEFAULT_DEMO = os.path.join(HERE, "demo_tenant.json")

DEFAULT_PAGE = 50
MAX_PAGE = 100
CURSOR_PREFIX = "arrayconnection:"
ROLES = ["ADMIN", "DEVOPS", "SUPPORT", "MEMBER", "ACCESS_REVIEWER",
         "HELPDESK", "BILLING"]
STATES = ["ACTIVE", "PENDING", "DISABLED"]
PARSE_ID_ERROR = "{'id': ['Unable to parse global ID']}"
UTC = datetime.timezone.utc

HTML_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            b"</body>\r\n</html>\r\n")
HTML_503 = (b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
            b"<body><h1>503 Service Unavailable</h1>\n"
            b"<p>No server is available to handle this request.</p></body></html>\n")
HTML_404 = (b"<!doctype html>\n<html lang=\"en\"><head><title>Not Found</title></head>"
            b"<body><h1>Not Found</h1><p>The requested resource was not found on this "
            b"server.</p></body></html>\n")


# --------------------------------------------------------------------- ids, time

def to_global_id(type_name, n):
    return base64.b64encode(("%s:%d" % (type_name, n)).encode("ascii")).decode("ascii")


def from_global_id(gid):
    """Return (type_name, n) or raise ValueError for anything not base64("Type:int")."""
    if not isinstance(gid, str) or not gid:
        raise ValueError(gid)
    raw = base64.b64decode(gid.encode("ascii", "strict"), validate=True).decode("ascii")
    type_name, _, num = raw.partition(":")
    if not type_name.isidentifier() or not num.isdigit():
        raise ValueError(gid)
    return type_name, int(num)


def parse_id_or_raise(gid):
    try:
        return from_global_id(gid)
    except (ValueError, UnicodeError, TypeError):
        raise Exception(PARSE_ID_ERROR)


def ts(dt):
    return dt.isoformat(timespec="microseconds")


def now_ts():
    return ts(datetime.datetime.now(UTC))


def offset_to_cursor(offset):
    return base64.b64encode((CURSOR_PREFIX + str(offset)).encode("ascii")).decode("ascii")


def cursor_to_offset(cursor):
    """graphql-relay semantics: anything unparsable means 'no cursor'."""
    if not isinstance(cursor, str):
        return None
    try:
        raw = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
        if not raw.startswith(CURSOR_PREFIX):
            return None
        return int(raw[len(CURSOR_PREFIX):])
    except (ValueError, UnicodeError):
        return None


# --------------------------------------------------------------------- model

class User:
    typename = "User"
    __slots__ = ("n", "id", "firstName", "lastName", "email", "avatarUrl", "role",
                 "state", "type", "createdAt", "updatedAt", "groups")

    def __init__(self, n, email, firstName=None, lastName=None, role="MEMBER",
                 state="ACTIVE", type="MANUAL", createdAt=None, updatedAt=None,
                 avatarUrl=None):
        self.n = n
        self.id = to_global_id("User", n)
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.role = role
        self.state = state
        self.type = type
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.avatarUrl = avatarUrl
        self.groups = []

    @property
    def isAdmin(self):
        return self.role == "ADMIN"


class Group:
    typename = "Group"
    __slots__ = ("n", "id", "name", "originId", "isActive", "type", "createdAt",
                 "updatedAt", "members", "member_set", "resources", "securityPolicy")

    def __init__(self, n, name, type="MANUAL", isActive=True, originId=None,
                 createdAt=None, updatedAt=None):
        self.n = n
        self.id = to_global_id("Group", n)
        self.name = name
        self.type = type
        self.isActive = isActive
        self.originId = originId
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.members = []          # User objects, in page order
        self.member_set = set()    # User.n
        self.resources = []        # Resource objects granting access to the group
        self.securityPolicy = None


class ServiceAccount:
    typename = "ServiceAccount"
    __slots__ = ("n", "id", "name", "createdAt", "updatedAt", "keys", "resources")

    def __init__(self, n, name, createdAt=None, updatedAt=None):
        self.n = n
        self.id = to_global_id("ServiceAccount", n)
        self.name = name
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.keys = []
        self.resources = []


class ServiceAccountKey:
    typename = "ServiceAccountKey"
    __slots__ = ("n", "id", "name", "createdAt", "updatedAt", "expiresAt", "revokedAt",
                 "status", "serviceAccount")

    def __init__(self, n, name, serviceAccount, status="ACTIVE", createdAt=None,
                 updatedAt=None, expiresAt=None, revokedAt=None):
        self.n = n
        self.id = to_global_id("ServiceAccountKey", n)
        self.name = name
        self.serviceAccount = serviceAccount
        self.status = status
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt


class RemoteNetwork:
    typename = "RemoteNetwork"
    __slots__ = ("n", "id", "name", "isActive", "location", "networkType", "createdAt",
                 "updatedAt", "resources")

    def __init__(self, n, name, location="OTHER", networkType="REGULAR", isActive=True,
                 createdAt=None, updatedAt=None):
        self.n = n
        self.id = to_global_id("RemoteNetwork", n)
        self.name = name
        self.location = location
        self.networkType = networkType
        self.isActive = isActive
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.resources = []


class SecurityPolicy:
    typename = "SecurityPolicy"
    __slots__ = ("n", "id", "name", "createdAt", "updatedAt", "groups")

    def __init__(self, n, name, createdAt=None, updatedAt=None):
        self.n = n
        self.id = to_global_id("SecurityPolicy", n)
        self.name = name
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.groups = []


class Grant:
    """One edge of Resource.access."""
    __slots__ = ("principal", "securityPolicy", "expiresAt", "usageBasedAutolockDurationDays")

    def __init__(self, principal, securityPolicy=None, expiresAt=None, autolock=None):
        self.principal = principal
        self.securityPolicy = securityPolicy
        self.expiresAt = expiresAt
        self.usageBasedAutolockDurationDays = autolock


class Resource:
    typename = "Resource"
    __slots__ = ("n", "id", "kind", "name", "address", "alias", "protocols", "isActive",
                 "isVisible", "isBrowserShortcutEnabled", "remoteNetwork", "securityPolicy",
                 "tags", "createdAt", "updatedAt", "access")

    def __init__(self, n, name, kind, address, remoteNetwork, alias=None, protocols=None,
                 isActive=True, isVisible=True, isBrowserShortcutEnabled=False,
                 securityPolicy=None, tags=None, createdAt=None, updatedAt=None):
        self.n = n
        self.id = to_global_id("Resource", n)
        self.kind = kind        # NetworkResource | SSHResource | KubernetesResource
        self.name = name
        self.address = address  # {"type": "DNS"|"IP", "value": ...}
        self.alias = alias
        self.protocols = protocols
        self.isActive = isActive
        self.isVisible = isVisible
        self.isBrowserShortcutEnabled = isBrowserShortcutEnabled
        self.remoteNetwork = remoteNetwork
        self.securityPolicy = securityPolicy
        self.tags = tags or []
        self.createdAt = createdAt or now_ts()
        self.updatedAt = updatedAt or self.createdAt
        self.access = []        # Grant objects


def default_protocols():
    return {"allowIcmp": True,
            "tcp": {"policy": "RESTRICTED", "ports": [{"start": 443, "end": 443},
                                                       {"start": 8000, "end": 8080}]},
            "udp": {"policy": "ALLOW_ALL", "ports": []}}


# --------------------------------------------------------------------- tenant

class Tenant:
    """All objects of one Twingate network plus journaled mutation primitives.

    Every primitive that changes state takes a journal `j` (a list) and appends
    an undo callable, so a request whose answer is faulted can be rolled back.
    """

    def __init__(self):
        self.users = []              # sorted by n
        self.users_by_n = {}
        self.users_by_email = {}     # lower-cased email -> User
        self.groups = []             # sorted by n
        self.groups_by_n = {}
        self.service_accounts = []
        self.sa_by_n = {}
        self.keys_by_n = {}
        self.resources = []
        self.resources_by_n = {}
        self.remote_networks = []
        self.rn_by_n = {}
        self.security_policies = []
        self.sp_by_n = {}
        self.version = 0
        self._filter_cache = {}
        self._filter_cache_version = 0
        # Twingate's firstName, lastName (and a group's name in practice) are
        # non-null: a blank one is "", which a regexp such as "^$" matches.
        # True (mock config regexp_null_names): a null name matches no regexp,
        # so partitions by a name's first character miss those objects.
        self.regexp_null_names = False

    # -- registration (initial load, no journal)
    def add_user(self, u):
        self.users.append(u)
        self.users_by_n[u.n] = u
        self.users_by_email[u.email.lower()] = u

    def add_group(self, g):
        self.groups.append(g)
        self.groups_by_n[g.n] = g

    def add_sa(self, sa):
        self.service_accounts.append(sa)
        self.sa_by_n[sa.n] = sa

    def add_key(self, k):
        k.serviceAccount.keys.append(k)
        self.keys_by_n[k.n] = k

    def add_rn(self, rn):
        self.remote_networks.append(rn)
        self.rn_by_n[rn.n] = rn

    def add_sp(self, sp):
        self.security_policies.append(sp)
        self.sp_by_n[sp.n] = sp

    def add_resource(self, r):
        self.resources.append(r)
        self.resources_by_n[r.n] = r
        r.remoteNetwork.resources.append(r)

    def finish(self):
        """Sort root lists by numeric id, derive User.groups from member lists."""
        for lst in (self.users, self.groups, self.service_accounts, self.resources,
                    self.remote_networks, self.security_policies):
            lst.sort(key=lambda o: o.n)
        for u in self.users:
            u.groups = []
        for g in self.groups:
            g.member_set = set(u.n for u in g.members)
            for u in g.members:
                u.groups.append(g)
            if g.securityPolicy is not None and g not in g.securityPolicy.groups:
                g.securityPolicy.groups.append(g)

    # -- lookups
    _maps = {"User": "users_by_n", "Group": "groups_by_n", "ServiceAccount": "sa_by_n",
             "ServiceAccountKey": "keys_by_n", "Resource": "resources_by_n",
             "RemoteNetwork": "rn_by_n", "SecurityPolicy": "sp_by_n"}

    def lookup(self, type_name, gid):
        """Object for a global id of the given type; None if unknown; raises on malformed."""
        t, n = parse_id_or_raise(gid)
        if t != type_name:
            return None
        return getattr(self, self._maps[type_name]).get(n)

    def next_n(self, lst, floor):
        return max(floor, lst[-1].n + 1 if lst else floor)

    # -- filters (cached per tenant version)
    def _name(self, value, ops):
        if value is None and "regexp" in ops and not self.regexp_null_names:
            return ""
        return value

    def _cached(self, key, compute):
        key = key + (self.regexp_null_names,)
        if self._filter_cache_version != self.version or len(self._filter_cache) > 256:
            self._filter_cache = {}
            self._filter_cache_version = self.version
        hit = self._filter_cache.get(key)
        if hit is None:
            hit = compute()
            self._filter_cache[key] = hit
        return hit

    def filter_users(self, flt):
        flt = strip_nulls(flt)
        if not flt:
            return self.users
        email = flt.get("email") or {}
        if set(flt) == {"email"} and set(email) == {"eq"}:
            u = self.users_by_email.get(email["eq"].lower())
            return [u] if u else []
        key = ("users", json.dumps(flt, sort_keys=True))

        def compute():
            roles = (flt.get("role") or {}).get("in")
            out = []
            for u in self.users:
                if roles is not None and u.role not in roles:
                    continue
                if "email" in flt and not string_match(u.email, flt["email"], fold=True):
                    continue
                if "firstName" in flt and not string_match(
                        self._name(u.firstName, flt["firstName"]), flt["firstName"]):
                    continue
                if "lastName" in flt and not string_match(
                        self._name(u.lastName, flt["lastName"]), flt["lastName"]):
                    continue
                out.append(u)
            return out
        return self._cached(key, compute)

    def filter_groups(self, flt):
        flt = strip_nulls(flt)
        if not flt:
            return self.groups
        key = ("groups", json.dumps(flt, sort_keys=True))

        def compute():
            types = (flt.get("type") or {}).get("in")
            active = (flt.get("isActive") or {}).get("eq")
            out = []
            for g in self.groups:
                if types is not None and g.type not in types:
                    continue
                if active is not None and g.isActive != active:
                    continue
                if "name" in flt and not string_match(self._name(g.name, flt["name"]), flt["name"]):
                    continue
                out.append(g)
            return out
        return self._cached(key, compute)

    def filter_named(self, kind, lst, flt):
        flt = strip_nulls(flt)
        if not flt:
            return lst
        key = (kind, json.dumps(flt, sort_keys=True))

        def compute():
            out = []
            rn = flt.get("remoteNetworkId") or {}
            rn_ids = set()
            if "eq" in rn:
                rn_ids.add(rn["eq"])
            if "in" in rn:
                rn_ids.update(x for x in rn["in"] if x is not None)
            for o in lst:
                if "name" in flt and not string_match(o.name, flt["name"]):
                    continue
                if rn and o.remoteNetwork.id not in rn_ids:
                    continue
                out.append(o)
            return out
        return self._cached(key, compute)

    # -- journaled primitives
    def set_attr(self, obj, name, value, j):
        old = getattr(obj, name)
        if old == value:
            return
        setattr(obj, name, value)
        j.append(lambda: setattr(obj, name, old))

    def add_member(self, g, u, j):
        if u.n in g.member_set:
            return
        g.members.append(u)
        g.member_set.add(u.n)
        u.groups.append(g)

        def undo():
            g.members.pop()
            g.member_set.discard(u.n)
            u.groups.pop()
        j.append(undo)

    def remove_member(self, g, u, j):
        if u.n not in g.member_set:
            return
        i = g.members.index(u)
        k = u.groups.index(g)
        del g.members[i]
        del u.groups[k]
        g.member_set.discard(u.n)

        def undo():
            g.members.insert(i, u)
            u.groups.insert(k, g)
            g.member_set.add(u.n)
        j.append(undo)

    def _insert_sorted(self, lst, by_n, obj, j):
        i = bisect.bisect_left(lst, obj.n, key=lambda o: o.n)
        lst.insert(i, obj)
        by_n[obj.n] = obj

        def undo():
            del lst[i]
            del by_n[obj.n]
        j.append(undo)

    def _remove_sorted(self, lst, by_n, obj, j):
        i = bisect.bisect_left(lst, obj.n, key=lambda o: o.n)
        assert lst[i] is obj
        del lst[i]
        del by_n[obj.n]

        def undo():
            lst.insert(i, obj)
            by_n[obj.n] = obj
        j.append(undo)

    def create_user(self, u, j):
        self._insert_sorted(self.users, self.users_by_n, u, j)
        key = u.email.lower()
        self.users_by_email[key] = u
        j.append(lambda: self.users_by_email.pop(key, None))

    def delete_user(self, u, j):
        for g in list(u.groups):
            self.remove_member(g, u, j)
        self._remove_sorted(self.users, self.users_by_n, u, j)
        key = u.email.lower()
        del self.users_by_email[key]
        j.append(lambda: self.users_by_email.__setitem__(key, u))

    def create_group(self, g, j):
        self._insert_sorted(self.groups, self.groups_by_n, g, j)

    def delete_group(self, g, j):
        for u in list(g.members):
            self.remove_member(g, u, j)
        for r in list(g.resources):
            self.revoke(r, g, j)
        self.set_security_policy(g, None, j)
        self._remove_sorted(self.groups, self.groups_by_n, g, j)

    def set_security_policy(self, g, sp, j):
        old = g.securityPolicy
        if old is sp:
            return
        if old is not None:
            i = old.groups.index(g)
            del old.groups[i]
            j.append(lambda: old.groups.insert(i, g))
        if sp is not None:
            sp.groups.append(g)
            j.append(lambda: sp.groups.pop())
        g.securityPolicy = sp
        j.append(lambda: setattr(g, "securityPolicy", old))

    def grant(self, r, principal, j):
        if any(gr.principal is principal for gr in r.access):
            return
        r.access.append(Grant(principal))
        principal.resources.append(r)

        def undo():
            r.access.pop()
            principal.resources.pop()
        j.append(undo)

    def revoke(self, r, principal, j):
        for i, gr in enumerate(r.access):
            if gr.principal is principal:
                break
        else:
            return
        k = principal.resources.index(r)
        del r.access[i]
        del principal.resources[k]

        def undo():
            r.access.insert(i, gr)
            principal.resources.insert(k, r)
        j.append(undo)


def aliased(document):
    """Whether a query document asks for a root field under an alias
    (several pages in one request: mock config refuse_aliases)."""
    for d in document.definitions:
        if isinstance(d, gast.OperationDefinition) and d.operation == "query":
            for sel in d.selection_set.selections:
                if isinstance(sel, gast.Field) and sel.alias is not None:
                    return True
    return False


def strip_nulls(flt):
    """Drop null operators/fields from a filter input (null means 'not given')."""
    if not flt:
        return None
    out = {}
    for k, v in flt.items():
        if isinstance(v, dict):
            v = {a: b for a, b in v.items() if b is not None}
            if not v:
                continue
        elif v is None:
            continue
        out[k] = v
    return out or None


def string_match(value, ops, fold=False):
    """StringFilterOperationInput. Case-sensitive except email (fold=True)."""
    if value is None:
        return False
    if fold:
        value = value.lower()
    for op, arg in ops.items():
        if arg is None:
            continue
        if fold:
            arg = [a.lower() if isinstance(a, str) else a for a in arg] \
                if isinstance(arg, list) else arg.lower()
        if op == "eq" and value != arg:
            return False
        if op == "ne" and value == arg:
            return False
        if op == "startsWith" and not value.startswith(arg):
            return False
        if op == "endsWith" and not value.endswith(arg):
            return False
        if op == "contains" and arg not in value:
            return False
        if op == "in" and value not in arg:
            return False
        if op == "regexp":
            try:
                if not re.search(arg, value):
                    return False
            except re.error:
                raise Exception("Invalid regular expression: %s" % arg)
    return True


# --------------------------------------------------------------------- demo tenant

def load_demo(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    t = Tenant()
    for s in spec["securityPolicies"]:
        t.add_sp(SecurityPolicy(s["n"], s["name"], s["createdAt"], s.get("updatedAt")))
    for s in spec["remoteNetworks"]:
        t.add_rn(RemoteNetwork(s["n"], s["name"], s.get("location", "OTHER"),
                               s.get("networkType", "REGULAR"), s.get("isActive", True),
                               s["createdAt"], s.get("updatedAt")))
    for s in spec["users"]:
        t.add_user(User(s["n"], s["email"], s.get("firstName"), s.get("lastName"),
                        s["role"], s["state"], s["type"], s["createdAt"],
                        s.get("updatedAt"), s.get("avatarUrl")))
    for s in spec["groups"]:
        g = Group(s["n"], s["name"], s["type"], s.get("isActive", True), s.get("originId"),
                  s["createdAt"], s.get("updatedAt"))
        if s.get("members") == "all":
            g.members = list(sorted(t.users, key=lambda u: u.n))
        else:
            g.members = [t.users_by_n[m] for m in s.get("members", [])]
        if s.get("securityPolicy") is not None:
            g.securityPolicy = t.sp_by_n[s["securityPolicy"]]
        t.add_group(g)
    for s in spec["serviceAccounts"]:
        sa = ServiceAccount(s["n"], s["name"], s["createdAt"], s.get("updatedAt"))
        t.add_sa(sa)
        for k in s.get("keys", []):
            t.add_key(ServiceAccountKey(k["n"], k["name"], sa, k.get("status", "ACTIVE"),
                                        k["createdAt"], k.get("updatedAt"),
                                        k.get("expiresAt"), k.get("revokedAt")))
    for s in spec["resources"]:
        r = Resource(s["n"], s["name"], s.get("kind", "NetworkResource"), s["address"],
                     t.rn_by_n[s["remoteNetwork"]], alias=s.get("alias"),
                     protocols=s.get("protocols", default_protocols()),
                     isActive=s.get("isActive", True), isVisible=s.get("isVisible", True),
                     isBrowserShortcutEnabled=s.get("isBrowserShortcutEnabled", False),
                     securityPolicy=t.sp_by_n.get(s.get("securityPolicy")),
                     tags=s.get("tags"), createdAt=s["createdAt"], updatedAt=s.get("updatedAt"))
        t.add_resource(r)
        for a in s.get("access", []):
            if "group" in a:
                p = t.groups_by_n[a["group"]]
            else:
                p = t.sa_by_n[a["serviceAccount"]]
            r.access.append(Grant(p, t.sp_by_n.get(a.get("securityPolicy")),
                                  a.get("expiresAt"), a.get("usageBasedAutolockDurationDays")))
            p.resources.append(r)
    t.finish()
    return t


# --------------------------------------------------------------------- synthetic tenant

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mateo",
    "Amara", "Kenji", "Priya", "Arjun", "Fatima", "Omar", "Hana", "Wei", "Chen", "Ines",
    "Kwame", "Ngozi", "Diego", "Lucia", "Sven", "Ingrid", "Pavel", "Anya", "Tariq", "Leila",
    "Zoë", "José", "Søren", "Łukasz", "Chloé", "Björn", "Aurélie", "Jürgen", "Siobhán",
    "Çağan", "Đorđe", "Hélène", "Renée", "Ísak", "美咲", "Мария", "فاطمة", "Nguyễn Văn",
]
LAST_NAMES = [
    "Smith", "Johnson", "Garcia", "Brown", "Okafor", "Nakamura", "Patel", "Kim", "Singh",
    "Rossi", "Novak", "Haddad", "Mensah", "Silva", "Larsen", "Cohen", "Tanaka", "Ivanova",
    "Ångström", "Müller", "Núñez", "Øvergaard", "Dvořák", "Kowalczyk", "Szabó", "Yılmaz",
    "Lefèvre", "Sørensen", "O'Brien", "D'Angelo", "van der Berg", "Smith-Jones", "佐藤",
    "Иванова", "العلي",
]
ODD_USER_NAMES = [
    ('Dwayne "The Rock"', "Johnson"),
    ("Robert'); DROP TABLE users;--", "Tables"),
    ("Colon:First", "Last:Name:With:Colons"),
    ("Emoji 🚀", "Coder 👩\u200d💻"),
    ("L" + "o" * 297 + "ng", "Name"),
    ("Back\\slash", "Sla/sh"),
    ("<b>Bold</b>", "&amp; Co"),
    ("", ""),
    ("  Padded  ", " Spaces "),
    ("Ünïcödé", "Ñame 名前"),
]
DEPTS = ["Engineering", "Sales", "Marketing", "Finance", "Legal", "Support", "Security",
         "IT", "Data", "Design", "Product", "People", "Operations", "Research", "QA",
         "Platform", "Infrastructure", "Mobile", "Web", "Analytics"]
QUALS = ["Team", "Admins", "Readers", "Contractors", "EU", "US", "APAC", "On-call", "Leads",
         "Interns", "Prod Access", "Staging Access", "Vendors"]
ODD_GROUP_NAMES = [
    'Ops: "Tier 1"',
    "Déjà vu — Ωmega",
    "🔥 Incident Response 🚒",
    "Very long group name " + "x" * 279,
    "Back\\slash\\group",
    "Quote's \"double\" group",
    "名前のグループ",
    "مجموعة الهندسة",
    "semi;colon,comma|pipe",
    "Trailing space ",
]


def slug(s):
    out = "".join(c for c in (s or "").lower() if "a" <= c <= "z" or "0" <= c <= "9")
    return out[:20] or "user"


def build_synthetic(seed, n_users, n_groups):
    rng = random.Random(seed)
    t = Tenant()
    base = datetime.datetime(2021, 3, 1, 9, 0, 0, tzinfo=UTC)
    span = 4 * 365 * 86400

    def stamp(frac):
        sec = int(span * frac) + rng.randrange(3600)
        return ts(base + datetime.timedelta(seconds=sec, microseconds=rng.randrange(1, 10 ** 6)))

    sps = [SecurityPolicy(901 + i, name, stamp(0)) for i, name in
           enumerate(["Default Policy", "Require MFA", "Contractors Policy"])]
    for sp in sps:
        t.add_sp(sp)
    rns = [RemoteNetwork(2001 + i, name, loc, createdAt=stamp(0.01 * i)) for i, (name, loc) in
           enumerate([("AWS us-east-1", "AWS"), ("GCP europe-west1", "GOOGLE_CLOUD"),
                      ("HQ Office", "ON_PREMISE")])]
    for rn in rns:
        t.add_rn(rn)

    # users
    role_w = (["MEMBER"] * 80 + ["ADMIN"] * 3 + ["DEVOPS"] * 5 + ["SUPPORT"] * 4 +
              ["ACCESS_REVIEWER"] * 3 + ["HELPDESK"] * 3 + ["BILLING"] * 2)
    state_w = ["ACTIVE"] * 90 + ["PENDING"] * 6 + ["DISABLED"] * 4
    n = 100000
    for i in range(n_users):
        n += 1 + rng.randrange(3)
        r = rng.random()
        if r < 0.02:
            first, last = None, None
        elif r < 0.03:
            first, last = rng.choice(FIRST_NAMES), None
        elif r < 0.06:
            first, last = ODD_USER_NAMES[rng.randrange(len(ODD_USER_NAMES))]
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        role = ROLES[i] if i < len(ROLES) else rng.choice(role_w)
        if len(ROLES) <= i < len(ROLES) + 3:
            state = STATES[i - len(ROLES)]
        else:
            state = rng.choice(state_w)
        utype = "SYNCED" if rng.random() < 0.4 else "MANUAL"
        if i < 2:
            utype = ("MANUAL", "SYNCED")[i]
        local = "%s.%s.%d" % (slug(first), slug(last), i)
        if rng.random() < 0.02:
            local = local.capitalize()
        email = local + ("@corp.example.com" if utype == "SYNCED" else "@example.com")
        created = stamp(i / max(1, n_users))
        t.add_user(User(n, email, first, last, role, state, utype, created, created))
    users = t.users
    nu = len(users)

    # groups
    power = rng.sample(range(nu), min(3, nu)) if nu else []
    combos = [(d, q) for d in DEPTS for q in QUALS]
    rng.shuffle(combos)
    gn = 30000
    for i in range(n_groups):
        gn += 1 + rng.randrange(2)
        created = stamp(i / max(1, n_groups))
        gtype, active, origin = "MANUAL", True, None
        exact = None       # exact member count (boundary groups): no power users
        if i == 0:
            name, gtype = "Everyone", "SYSTEM"
        elif i == 1:
            name, size = "All Staff", min(nu, max(260, nu // 4))
        elif i == 2:
            name, exact = "Boundary 101", min(nu, 101)
        elif i == 3:
            name, exact = "Boundary 100", min(nu, 100)
        elif i == 4:
            name, exact = "Boundary 50", min(nu, 50)
        elif i == 5:
            name, exact = "Empty Group", 0
        elif i == 6:
            name, exact = "Solo Group", min(nu, 1)
        else:
            if i % 29 == 11:
                name = ODD_GROUP_NAMES[(i // 29) % len(ODD_GROUP_NAMES)]
            elif i % 37 == 0:
                name = t.groups[rng.randrange(1, len(t.groups))].name  # duplicate name
            else:
                d, q = combos[i % len(combos)]
                name = "%s %s" % (d, q) if i < len(combos) else "%s %s %d" % (d, q, i)
            if i == 7 or rng.random() < 0.25:
                gtype = "SYNCED"
                origin = "00g%016x" % rng.getrandbits(64) if rng.random() < 0.5 else \
                    "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                     rng.getrandbits(12), rng.getrandbits(12),
                                                     rng.getrandbits(48))
            if i == 8 or rng.random() < 0.05:
                active = False
            p = rng.random()
            if p < 0.70:
                size = rng.randrange(0, 21)
            elif p < 0.90:
                size = rng.randrange(20, 151)
            elif p < 0.98:
                size = rng.randrange(150, 601)
            else:
                size = rng.randrange(600, 3001)
            size = min(nu, size)
        g = Group(gn, name, gtype, active, origin, created, created)
        if gtype == "SYSTEM":
            g.members = list(users)
        else:
            if exact is not None:
                idx = sorted(rng.sample(range(nu), exact))
            else:
                idx = set(rng.sample(range(nu), size))
                idx.update(power)
                idx = sorted(idx)
            g.members = [users[k] for k in idx]
        if gtype != "SYSTEM" and rng.random() < 0.3:
            g.securityPolicy = rng.choice(sps)
        t.add_group(g)
    groups = t.groups

    # service accounts and keys
    kn = 8000
    for i in range(max(2, n_groups // 50)):
        sa = ServiceAccount(5001 + i, ["CI Deployer", "Backup Agent", "Terraform", "Monitoring",
                                       "Log Shipper"][i % 5] + ("" if i < 5 else " %d" % i),
                            stamp(0.02 * i % 1))
        t.add_sa(sa)
        for k in range(1 + rng.randrange(3)):
            kn += 1
            status = "REVOKED" if k == 2 else "ACTIVE"
            created = stamp(0.5)
            t.add_key(ServiceAccountKey(kn, "key-%d" % (k + 1), sa, status, created,
                                        expiresAt=None if k == 0 else stamp(0.99),
                                        revokedAt=created if status == "REVOKED" else None))

    # resources
    kinds = ["NetworkResource", "NetworkResource", "SSHResource", "KubernetesResource"]
    sas = t.service_accounts
    for i in range(max(3, n_groups // 4)):
        rn = rns[i % len(rns)]
        kind = kinds[i % len(kinds)]
        if i % 2:
            addr = {"type": "IP", "value": "10.%d.%d.0/24" % (i // 256 % 256, i % 256)}
        else:
            addr = {"type": "DNS", "value": "svc-%d.internal.example.com" % i}
        r = Resource(7001 + i, "%s %d" % (["Database", "Bastion", "Cluster", "Wiki", "Git"][i % 5], i),
                     kind, addr, rn, alias="r%d.tg" % i if i % 3 == 0 else None,
                     protocols=default_protocols(), securityPolicy=sps[i % len(sps)] if i % 4 == 0 else None,
                     tags=[{"key": "env", "value": ["prod", "staging", "dev"][i % 3]}],
                     createdAt=stamp(i / max(1, n_groups // 4 + 1)))
        t.add_resource(r)
        if len(groups) > 1:
            count = min(len(groups) - 1, 130 if i == 0 else rng.randrange(1, 6))
            for g in rng.sample(groups[1:], count):
                r.access.append(Grant(g))
                g.resources.append(r)
        if sas and rng.random() < 0.4:
            sa = rng.choice(sas)
            r.access.append(Grant(sa, expiresAt=stamp(0.999) if rng.random() < 0.5 else None))
            sa.resources.append(r)
    t.finish()
    return t


# --------------------------------------------------------------------- GraphQL layer

class Ctx:
    """Per-request execution context."""
    __slots__ = ("tenant", "read_only", "journal", "mutations", "mutations_ok", "queries")

    def __init__(self, tenant, read_only):
        self.tenant = tenant
        self.read_only = read_only
        self.journal = []
        self.mutations = collections.Counter()
        self.mutations_ok = collections.Counter()
        self.queries = collections.Counter()


def connection(seq, args, info, edge_fn=None):
    """Relay connection over a Python list, graphene-django style limits."""
    first = args.get("first")
    last = args.get("last")
    name = info.field_name
    if first:
        if first > MAX_PAGE:
            raise Exception("Requesting %d records on the `%s` connection exceeds the "
                            "`first` limit of %d records." % (first, name, MAX_PAGE))
    elif last:
        if last > MAX_PAGE:
            raise Exception("Requesting %d records on the `%s` connection exceeds the "
                            "`last` limit of %d records." % (last, name, MAX_PAGE))
    else:
        first = DEFAULT_PAGE
    if first is not None and first < 0:
        raise Exception("Argument 'first' must be a non-negative integer.")
    if last is not None and last < 0:
        raise Exception("Argument 'last' must be a non-negative integer.")
    total = len(seq)
    after = cursor_to_offset(args.get("after"))
    before = cursor_to_offset(args.get("before"))
    after_off = -1 if after is None else after
    before_off = total if before is None else before
    start = max(after_off, -1) + 1
    end = min(before_off, total)
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    edges = []
    if start < end:
        for k in range(start, end):
            if edge_fn is None:
                edges.append({"cursor": offset_to_cursor(k), "node": seq[k]})
            else:
                edges.append(edge_fn(k, seq[k]))
    lower = after_off + 1 if after is not None else 0
    upper = before_off if before is not None else total
    return {
        "pageInfo": {
            "hasNextPage": end < upper if first is not None else False,
            "hasPreviousPage": start > lower if last is not None else False,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "edges": edges,
        "totalCount": total,
    }


def access_edge(k, grant):
    return {"cursor": offset_to_cursor(k), "node": grant.principal,
            "securityPolicy": grant.securityPolicy, "expiresAt": grant.expiresAt,
            "usageBasedAutolockDurationDays": grant.usageBasedAutolockDurationDays}


def _payload(ok, error=None, entity=None):
    return {"ok": ok, "error": error, "entity": entity}


def _ids(tenant, type_name, ids):
    """Resolve a list of ids: (objects, error-or-None). Null items are ignored."""
    out, seen = [], set()
    for gid in ids or []:
        if gid is None:
            continue
        obj = tenant.lookup(type_name, gid)
        if obj is None:
            return None, "%s with id %s not found" % (type_name, gid)
        if obj.n not in seen:
            seen.add(obj.n)
            out.append(obj)
    return out, None


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _active_admins(tenant):
    return sum(1 for u in tenant.users if u.role == "ADMIN" and u.state != "DISABLED")


class Resolvers:
    """Resolver functions installed on the built schema."""

    # ---- queries
    @staticmethod
    def q_users(root, info, **a):
        t = info.context.tenant
        return connection(t.filter_users(a.get("filter")), a, info)

    @staticmethod
    def q_groups(root, info, **a):
        t = info.context.tenant
        return connection(t.filter_groups(a.get("filter")), a, info)

    @staticmethod
    def q_service_accounts(root, info, **a):
        t = info.context.tenant
        return connection(t.filter_named("sa", t.service_accounts, a.get("filter")), a, info)

    @staticmethod
    def q_resources(root, info, **a):
        t = info.context.tenant
        return connection(t.filter_named("res", t.resources, a.get("filter")), a, info)

    @staticmethod
    def q_remote_networks(root, info, **a):
        t = info.context.tenant
        return connection(t.filter_named("rn", t.remote_networks, a.get("filter")), a, info)

    @staticmethod
    def q_security_policies(root, info, **a):
        t = info.context.tenant
        return connection(t.filter_named("sp", t.security_policies, a.get("filter")), a, info)

    @staticmethod
    def by_id(type_name):
        def resolve(root, info, id):
            return info.context.tenant.lookup(type_name, id)
        return resolve

    @staticmethod
    def by_id_or_name(type_name, lst_attr):
        def resolve(root, info, id=None, name=None):
            t = info.context.tenant
            if id is not None:
                obj = t.lookup(type_name, id)
                if obj is None or (name is not None and obj.name != name):
                    return None
                return obj
            if name is not None:
                for obj in getattr(t, lst_attr):
                    if obj.name == name:
                        return obj
            return None
        return resolve

    # ---- mutations
    @staticmethod
    def m_group_create(root, info, name, userIds=None, resourceIds=None, securityPolicyId=None):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        if not name.strip():
            return _payload(False, "Group name cannot be blank.")
        users, err = _ids(t, "User", userIds)
        if err:
            return _payload(False, err)
        resources, err = _ids(t, "Resource", resourceIds)
        if err:
            return _payload(False, err)
        sp = None
        if securityPolicyId is not None:
            sp = t.lookup("SecurityPolicy", securityPolicyId)
            if sp is None:
                return _payload(False, "SecurityPolicy with id %s not found" % securityPolicyId)
        g = Group(t.next_n(t.groups, 30001), name, "MANUAL", True, None)
        t.create_group(g, j)
        for u in users:
            t.add_member(g, u, j)
        for r in resources:
            t.grant(r, g, j)
        if sp is not None:
            t.set_security_policy(g, sp, j)
        return _payload(True, None, g)

    @staticmethod
    def m_group_update(root, info, id, name=None, isActive=None, addedUserIds=None,
                       removedUserIds=None, userIds=None, addedResourceIds=None,
                       removedResourceIds=None, resourceIds=None, securityPolicyId=None):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        g = t.lookup("Group", id)
        if g is None:
            return _payload(False, "Group with id %s not found" % id)
        added, err = _ids(t, "User", addedUserIds)
        if err:
            return _payload(False, err)
        removed, err = _ids(t, "User", removedUserIds)
        if err:
            return _payload(False, err)
        replace = None
        if userIds is not None:
            replace, err = _ids(t, "User", userIds)
            if err:
                return _payload(False, err)
        res_added, err = _ids(t, "Resource", addedResourceIds)
        if err:
            return _payload(False, err)
        res_removed, err = _ids(t, "Resource", removedResourceIds)
        if err:
            return _payload(False, err)
        res_replace = None
        if resourceIds is not None:
            res_replace, err = _ids(t, "Resource", resourceIds)
            if err:
                return _payload(False, err)
        sp = None
        if securityPolicyId is not None:
            sp = t.lookup("SecurityPolicy", securityPolicyId)
            if sp is None:
                return _payload(False, "SecurityPolicy with id %s not found" % securityPolicyId)
        membership = bool(added or removed) or replace is not None
        if membership and g.type == "SYNCED":
            return _payload(False, "Group membership is managed by the identity provider: "
                                   "group '%s' is a synced group." % g.name)
        if membership and g.type == "SYSTEM":
            return _payload(False, "Group membership is managed by Twingate: group '%s' is "
                                   "a system group." % g.name)
        if g.type == "SYSTEM" and ((name is not None and name != g.name) or
                                   (isActive is not None and isActive != g.isActive)):
            return _payload(False, "System group '%s' cannot be modified." % g.name)
        if g.type == "SYNCED" and name is not None and name != g.name:
            return _payload(False, "Group name is managed by the identity provider: group "
                                   "'%s' is a synced group." % g.name)
        if name is not None and not name.strip():
            return _payload(False, "Group name cannot be blank.")
        if name is not None:
            t.set_attr(g, "name", name, j)
        if isActive is not None:
            t.set_attr(g, "isActive", isActive, j)
        if replace is not None:
            keep = set(u.n for u in replace)
            for u in list(g.members):
                if u.n not in keep:
                    t.remove_member(g, u, j)
            for u in replace:
                t.add_member(g, u, j)
        for u in added:
            t.add_member(g, u, j)
        for u in removed:
            t.remove_member(g, u, j)
        if res_replace is not None:
            keep = set(r.n for r in res_replace)
            for r in list(g.resources):
                if r.n not in keep:
                    t.revoke(r, g, j)
            for r in res_replace:
                t.grant(r, g, j)
        for r in res_added:
            t.grant(r, g, j)
        for r in res_removed:
            t.revoke(r, g, j)
        if sp is not None:
            t.set_security_policy(g, sp, j)
        t.set_attr(g, "updatedAt", now_ts(), j)
        return _payload(True, None, g)

    @staticmethod
    def m_group_delete(root, info, id):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        g = t.lookup("Group", id)
        if g is None:
            return _payload(False, "Group with id %s not found" % id)
        if g.type == "SYSTEM":
            return _payload(False, "System group '%s' cannot be deleted." % g.name)
        if g.type == "SYNCED":
            return _payload(False, "Group '%s' is managed by the identity provider and "
                                   "cannot be deleted." % g.name)
        t.delete_group(g, j)
        return _payload(True)

    @staticmethod
    def m_user_create(root, info, email, firstName=None, lastName=None, role=None,
                      shouldSendInvite=None):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        email = email.strip()
        if not EMAIL_RE.match(email):
            return _payload(False, "Enter a valid email address.")
        if email.lower() in t.users_by_email:
            return _payload(False, "User with email %s already exists." % email)
        u = User(t.next_n(t.users, 100001), email, firstName, lastName, role or "MEMBER",
                 "PENDING", "MANUAL")
        t.create_user(u, j)
        for g in t.groups:
            if g.type == "SYSTEM" and g.name == "Everyone":
                t.add_member(g, u, j)
        return _payload(True, None, u)

    @staticmethod
    def m_user_details_update(root, info, id, firstName=None, lastName=None, state=None):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        u = t.lookup("User", id)
        if u is None:
            return _payload(False, "User with id %s not found" % id)
        if u.type == "SYNCED":
            return _payload(False, "User %s is synced from the identity provider and cannot "
                                   "be modified." % u.email)
        if state == "DISABLED" and u.role == "ADMIN" and u.state != "DISABLED" \
                and _active_admins(t) <= 1:
            return _payload(False, "Cannot disable the last admin of the network.")
        if firstName is not None:
            t.set_attr(u, "firstName", firstName, j)
        if lastName is not None:
            t.set_attr(u, "lastName", lastName, j)
        if state is not None:
            t.set_attr(u, "state", state, j)
        t.set_attr(u, "updatedAt", now_ts(), j)
        return _payload(True, None, u)

    @staticmethod
    def m_user_role_update(root, info, id, role):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        u = t.lookup("User", id)
        if u is None:
            return _payload(False, "User with id %s not found" % id)
        if u.role == "ADMIN" and role != "ADMIN" and u.state != "DISABLED" \
                and _active_admins(t) <= 1:
            return _payload(False, "Cannot change the role of the last admin of the network.")
        t.set_attr(u, "role", role, j)
        t.set_attr(u, "updatedAt", now_ts(), j)
        return _payload(True, None, u)

    @staticmethod
    def m_user_delete(root, info, id):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        u = t.lookup("User", id)
        if u is None:
            return _payload(False, "User with id %s not found" % id)
        if u.type == "SYNCED":
            return _payload(False, "User %s is synced from the identity provider and cannot "
                                   "be deleted." % u.email)
        if u.role == "ADMIN" and u.state != "DISABLED" and _active_admins(t) <= 1:
            return _payload(False, "Cannot delete the last admin of the network.")
        t.delete_user(u, j)
        return _payload(True)

    @staticmethod
    def m_user_reset_mfa(root, info, id):
        ctx = info.context
        t, j = ctx.tenant, ctx.journal
        u = t.lookup("User", id)
        if u is None:
            return _payload(False, "User with id %s not found" % id)
        t.set_attr(u, "updatedAt", now_ts(), j)
        return _payload(True, None, u)


def _wrap_query(fn):
    def resolve(root, info, **args):
        info.context.queries[info.field_name] += 1
        return fn(root, info, **args)
    return resolve


def _wrap_mutation(fn):
    def resolve(root, info, **args):
        ctx = info.context
        ctx.mutations[info.field_name] += 1
        if ctx.read_only:  # graphene-django's PermissionDenied, as Twingate answers a Read only key
            raise Exception(READ_ONLY_REFUSAL)
        result = fn(root, info, **args)
        if result and result.get("ok"):
            ctx.mutations_ok[info.field_name] += 1
        return result
    return resolve


def _nested(attr, edge_fn=None):
    def resolve(obj, info, **args):
        return connection(getattr(obj, attr), args, info, edge_fn)
    return resolve


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        schema = build_ast_schema(parse(f.read()))
    R = Resolvers
    q = schema.get_query_type().fields
    for name, fn in [
            ("users", R.q_users), ("groups", R.q_groups),
            ("serviceAccounts", R.q_service_accounts), ("resources", R.q_resources),
            ("remoteNetworks", R.q_remote_networks),
            ("securityPolicies", R.q_security_policies),
            ("user", R.by_id("User")), ("group", R.by_id("Group")),
            ("serviceAccount", R.by_id("ServiceAccount")),
            ("serviceAccountKey", R.by_id("ServiceAccountKey")),
            ("resource", R.by_id("Resource")),
            ("remoteNetwork", R.by_id_or_name("RemoteNetwork", "remote_networks")),
            ("securityPolicy", R.by_id_or_name("SecurityPolicy", "security_policies"))]:
        q[name].resolver = _wrap_query(fn)
    m = schema.get_mutation_type().fields
    for name, fn in [
            ("groupCreate", R.m_group_create), ("groupUpdate", R.m_group_update),
            ("groupDelete", R.m_group_delete), ("userCreate", R.m_user_create),
            ("userDetailsUpdate", R.m_user_details_update),
            ("userRoleUpdate", R.m_user_role_update), ("userDelete", R.m_user_delete),
            ("userResetMfa", R.m_user_reset_mfa)]:
        m[name].resolver = _wrap_mutation(fn)
    nested = {
        "User": [("groups", "groups")],
        "Group": [("users", "members"), ("resources", "resources")],
        "ServiceAccount": [("resources", "resources"), ("keys", "keys")],
        "SecurityPolicy": [("groups", "groups")],
        "RemoteNetwork": [("resources", "resources")],
    }
    for tname, pairs in nested.items():
        fields = schema.get_type(tname).fields
        for fname, attr in pairs:
            fields[fname].resolver = _nested(attr)
    for tname in ("NetworkResource", "SSHResource", "KubernetesResource"):
        schema.get_type(tname).fields["access"].resolver = _nested("access", access_edge)

    schema.get_type("Resource").resolve_type = lambda obj, info: obj.kind
    schema.get_type("AccessPrincipal").resolve_type = lambda obj, info: obj.typename
    dt = schema.get_type("DateTime")
    dt.serialize = lambda v: v if isinstance(v, str) or v is None else ts(v)
    dt.parse_value = lambda v: v if isinstance(v, str) else None
    dt.parse_literal = lambda node: node.value if isinstance(node, gast.StringValue) else None
    return schema


# --------------------------------------------------------------------- the app

class Prepared:
    __slots__ = ("document", "errors", "op_types")

    def __init__(self, document, errors, op_types):
        self.document = document
        self.errors = errors      # formatted error dicts (HTTP 400) or None
        self.op_types = op_types  # {operation name or None: "query"|"mutation"|...}


class RateWindow:
    def __init__(self):
        self.times = collections.deque()

    def admit(self, limit, window, now):
        """None if admitted (and recorded), else seconds until a slot frees."""
        times = self.times
        while times and times[0] <= now - window:
            times.popleft()
        if limit and len(times) >= limit:
            return max(0.0, times[0] + window - now)
        if limit:
            times.append(now)
        return None


# graphene-django's standard permission refusal (its PermissionDenied default).
READ_ONLY_REFUSAL = "You do not have permission to perform this action"

CONFIG_KEYS = {
    "fail_every": int, "truncate_every": int, "fail_first": int,
    "reads_per_minute": int, "writes_per_minute": int, "rate_window_seconds": float,
    "retry_after_seconds": lambda v: None if v is None else int(v),
    "retry_after_date": bool, "no_retry_after": bool, "latency_ms": float,
    "cut_mutations": int, "fail_after_cut": int, "read_only_http_403": bool,
    # issue 17: the next N answers of executed queries carry a Content-Encoding
    # their body does not have: "gzip" on a plain body (odd ones), then an
    # encoding no client knows ("x-unknown")
    "bad_encoding": int,
    "refuse_aliases": int, "regexp_null_names": bool,
}

# Marks an answer to be cut mid-body: the full Content-Length goes out, then
# half the body, then the connection closes (the client sees a partial body).
CUT_MARK = ("X-Mock-Cut", "1")


class MockApp:
    def __init__(self, opts):
        self.opts = opts
        self.schema = load_schema(opts.schema)
        self.exec_lock = threading.RLock()
        self.lock = threading.Lock()       # config, counters, stats, rate windows
        self.tenant = self.build_tenant()
        self.cfg = {
            "fail_every": opts.fail_every, "truncate_every": opts.truncate_every,
            "fail_first": opts.fail_first,
            "reads_per_minute": opts.reads_per_minute,
            "writes_per_minute": opts.writes_per_minute,
            "rate_window_seconds": opts.rate_window_seconds,
            "retry_after_seconds": opts.retry_after_seconds,
            "retry_after_date": opts.retry_after_date,
            "no_retry_after": opts.no_retry_after,
            "latency_ms": opts.latency_ms,
            "cut_mutations": opts.cut_mutations, "fail_after_cut": opts.fail_after_cut,
            "read_only_http_403": False,
            "bad_encoding": 0,
            "refuse_aliases": 0, "regexp_null_names": False,
        }
        self.bad_encoding_left = 0
        self.aliased_served = 0
        self.fail_first_left = opts.fail_first
        self.cut_mutations_left = opts.cut_mutations
        self.fail_counter = 0
        self.truncate_counter = 0
        self.windows = {"read": RateWindow(), "write": RateWindow()}
        self.cache = {}
        self.changes = mock_changes.Changes(self, Ctx)  # scheduled changes, page faults
        self.reset_stats()

    def build_tenant(self):
        o = self.opts
        if o.tenant == "demo":
            return load_demo(o.demo_file)
        return build_synthetic(o.seed, o.users, o.groups)

    # ---- stats / config
    def reset_stats(self):
        with self.lock:
            self.stats = {"requests": 0, "reads": 0, "writes": 0,
                          "mutations": collections.Counter(),
                          "mutations_ok": collections.Counter(),
                          "queries": collections.Counter(),
                          "rate_limited": 0, "faults": 0, "unauthorized": 0,
                          "bad_requests": 0, "by_status": collections.Counter(),
                          "in_flight": 0, "max_in_flight": 0}

    def stats_snapshot(self):
        with self.lock:
            s = dict(self.stats)
            for k in ("mutations", "mutations_ok", "queries"):
                s[k] = dict(s[k])
            s["by_status"] = {str(k): v for k, v in s["by_status"].items()}
            return s

    def set_config(self, changes):
        with self.lock:
            for raw_key, value in changes.items():
                key = raw_key.replace("-", "_")
                if key not in CONFIG_KEYS:
                    raise ValueError("unknown config key %r" % raw_key)
                value = CONFIG_KEYS[key](value)
                self.cfg[key] = value
                if key == "fail_first":
                    self.fail_first_left = value
                elif key == "cut_mutations":
                    self.cut_mutations_left = value
                elif key == "bad_encoding":
                    self.bad_encoding_left = value
                elif key == "refuse_aliases":
                    self.aliased_served = 0
                elif key == "fail_every":
                    self.fail_counter = 0
                elif key == "truncate_every":
                    self.truncate_counter = 0
                elif key in ("reads_per_minute", "writes_per_minute", "rate_window_seconds"):
                    self.windows = {"read": RateWindow(), "write": RateWindow()}
            return dict(self.cfg)

    def reset_tenant(self):
        t = self.build_tenant()
        with self.exec_lock:
            self.tenant = t

    # ---- truth
    def truth(self):
        with self.exec_lock:
            t = self.tenant
            return {
                "users": [{"id": u.id, "firstName": u.firstName, "lastName": u.lastName,
                           "email": u.email, "role": u.role, "state": u.state,
                           "type": u.type, "isAdmin": u.isAdmin, "createdAt": u.createdAt,
                           "updatedAt": u.updatedAt} for u in t.users],
                "groups": [{"id": g.id, "name": g.name, "type": g.type,
                            "isActive": g.isActive, "originId": g.originId,
                            "createdAt": g.createdAt, "updatedAt": g.updatedAt,
                            "securityPolicyId": g.securityPolicy.id if g.securityPolicy else None,
                            "members": [u.id for u in g.members],
                            "resources": [r.id for r in g.resources]} for g in t.groups],
                "serviceAccounts": [{"id": s.id, "name": s.name, "createdAt": s.createdAt,
                                     "keys": [{"id": k.id, "name": k.name, "status": k.status,
                                               "createdAt": k.createdAt,
                                               "expiresAt": k.expiresAt,
                                               "revokedAt": k.revokedAt} for k in s.keys],
                                     "resources": [r.id for r in s.resources]}
                                    for s in t.service_accounts],
                "resources": [{"id": r.id, "name": r.name, "typename": r.kind,
                               "address": r.address, "alias": r.alias,
                               "isActive": r.isActive,
                               "remoteNetworkId": r.remoteNetwork.id,
                               "createdAt": r.createdAt,
                               "access": [{"principalId": g.principal.id,
                                           "principalType": g.principal.typename,
                                           "expiresAt": g.expiresAt} for g in r.access]}
                              for r in t.resources],
                "remoteNetworks": [{"id": n.id, "name": n.name, "location": n.location,
                                    "isActive": n.isActive} for n in t.remote_networks],
                "securityPolicies": [{"id": p.id, "name": p.name} for p in t.security_policies],
            }

    # ---- GraphQL
    def prepare(self, query):
        hit = self.cache.get(query)
        if hit is not None:
            return hit
        try:
            doc = parse(query)
        except GraphQLError as e:
            prep = Prepared(None, [format_error(e)], {})
        else:
            op_types = {}
            for d in doc.definitions:
                if isinstance(d, gast.OperationDefinition):
                    op_types[d.name.value if d.name else None] = d.operation
            errs = validate(self.schema, doc)
            prep = Prepared(doc, [format_error(e) for e in errs] or None, op_types)
        if len(self.cache) > 500:
            self.cache = {}
        self.cache[query] = prep
        return prep

    @staticmethod
    def classify(prep, op_name):
        ops = prep.op_types
        if op_name and op_name in ops:
            kind = ops[op_name]
        elif len(ops) == 1:
            kind = next(iter(ops.values()))
        else:
            kind = "mutation" if "mutation" in ops.values() else "query"
        return "write" if kind == "mutation" else "read"

    def handle_graphql(self, headers, body):
        """Return (status, extra_headers, content_type, body_bytes)."""
        with self.lock:
            self.stats["requests"] += 1
        status, hdrs, ctype, out = self._handle(headers, body)
        with self.lock:
            self.stats["by_status"][status] += 1
        return status, hdrs, ctype, out

    def enter(self):
        with self.lock:
            st = self.stats
            st["in_flight"] += 1
            st["max_in_flight"] = max(st["max_in_flight"], st["in_flight"])

    def leave(self):
        with self.lock:
            self.stats["in_flight"] = max(0, self.stats["in_flight"] - 1)

    def _handle(self, headers, body):
        cfg = self.cfg
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)
        with self.lock:
            if self.fail_first_left > 0:
                self.fail_first_left -= 1
                self.stats["faults"] += 1
                return 502, [], "text/html", HTML_502
            if cfg["fail_every"] > 0:
                self.fail_counter += 1
                if self.fail_counter % cfg["fail_every"] == 0:
                    self.stats["faults"] += 1
                    return 503, [], "text/html", HTML_503
        key = headers.get("X-API-KEY")
        ro_key = self.opts.read_only_key
        if key is None or (key != self.opts.api_key and not (ro_key and key == ro_key)):
            with self.lock:
                self.stats["unauthorized"] += 1
            return 401, [], "application/json", json.dumps(
                {"message": "Unauthorized"}).encode("ascii")
        read_only = key != self.opts.api_key

        def bad(msg_or_errors):
            with self.lock:
                self.stats["bad_requests"] += 1
            errs = msg_or_errors if isinstance(msg_or_errors, list) else [{"message": msg_or_errors}]
            return 400, [], "application/json", json.dumps({"errors": errs}).encode("ascii")

        try:
            req = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            req = ValueError
        if req is ValueError or (req is not None and not isinstance(req, dict)):
            return bad("POST body sent invalid JSON.")
        req = req or {}
        query = req.get("query")
        variables = req.get("variables")
        op_name = req.get("operationName")
        if isinstance(variables, str):
            try:
                variables = json.loads(variables) if variables else None
            except ValueError:
                return bad("Variables are invalid JSON.")
        if variables is not None and not isinstance(variables, dict):
            return bad("Variables are invalid JSON.")
        if op_name is not None and not isinstance(op_name, str):
            return bad("operationName must be a string.")
        if not isinstance(query, str) or not query:
            # graphene-django: missing query is a 400 before any rate accounting
            return bad("Must provide query string.")
        with self.exec_lock:
            prep = self.prepare(query)
        cls = self.classify(prep, op_name)

        with self.lock:
            limit = cfg["reads_per_minute"] if cls == "read" else cfg["writes_per_minute"]
            wait = self.windows[cls].admit(limit, cfg["rate_window_seconds"], time.monotonic())
            if wait is not None:
                self.stats["rate_limited"] += 1
                return 429, self._retry_after(wait), "application/json", json.dumps(
                    {"errors": [{"message": "429 Too Many Requests"}]}).encode("ascii")
            self.stats["reads" if cls == "read" else "writes"] += 1
            truncate = False
            if cfg["truncate_every"] > 0:
                self.truncate_counter += 1
                truncate = self.truncate_counter % cfg["truncate_every"] == 0

        if prep.errors:
            return self._cut(truncate, bad(prep.errors))
        if read_only and cls != "read" and cfg["read_only_http_403"]:  # counted in "writes"
            return 403, [], "application/json", json.dumps(
                {"errors": [{"message": READ_ONLY_REFUSAL}]}).encode("ascii")
        if cfg["refuse_aliases"] and aliased(prep.document) and self._refuse_alias():
            return self._cut(truncate, bad("Query is too complex: aliased root fields "
                                           "are not allowed (mock refuse_aliases)"))

        with self.exec_lock:
            self.changes.before_request()
            self.tenant.regexp_null_names = cfg["regexp_null_names"]
            ctx = Ctx(self.tenant, read_only)
            try:
                result = execute(self.schema, prep.document, context_value=ctx,
                                 variable_values=variables, operation_name=op_name)
            except GraphQLError as e:
                return self._cut(truncate, bad([format_error(e)]))
            except Exception as e:  # graphql-core 2 leaks e.g. ValueError on bad variables;
                # graphene-django turns any such exception into a 400 ("invalid") answer
                return self._cut(truncate, bad("Invalid request: %s" % e))
            if ctx.journal or ctx.mutations:
                if truncate:
                    for undo in reversed(ctx.journal):
                        undo()
                self.tenant.version += 1
        if result.invalid:
            return self._cut(truncate, bad([format_error(e) for e in result.errors]))
        resp = {}
        if result.errors:
            resp["errors"] = [format_error(e) for e in result.errors]
        resp["data"] = result.data
        resp["data"] = self.changes.mangle(resp["data"])
        out = json.dumps(resp).encode("ascii")
        with self.lock:
            if truncate:
                self.stats["faults"] += 1
            else:
                self.stats["mutations"].update(ctx.mutations)
                self.stats["mutations_ok"].update(ctx.mutations_ok)
            self.stats["queries"].update(ctx.queries)
            cut = self._take_cut(cls, truncate)
        if truncate:
            return 200, [], "application/json", out[:len(out) // 2]
        with self.lock:
            bad = self.bad_encoding_left
            if bad > 0 and not cut:
                self.bad_encoding_left -= 1
        if bad > 0 and not cut:
            return 200, [("Content-Encoding", "gzip" if bad % 2 else "x-unknown")], \
                "application/json", out
        return 200, [CUT_MARK] if cut else [], "application/json", out

    def _refuse_alias(self):
        """refuse_aliases = k (k >= 1): the k-th aliased query and every later one
        answer 400 (0: aliases are served)."""
        with self.lock:
            self.aliased_served += 1
            return self.aliased_served >= self.cfg["refuse_aliases"]

    def _take_cut(self, cls, truncate):
        """An applied mutation whose answer is to be cut mid-body (cut_mutations);
        the fail_after_cut requests after it answer 502. Called under self.lock."""
        if cls != "write" or truncate or self.cut_mutations_left <= 0:
            return False
        self.cut_mutations_left -= 1
        self.fail_first_left = self.cfg["fail_after_cut"]
        self.stats["faults"] += 1
        return True

    def _cut(self, truncate, answer):
        if not truncate:
            return answer
        status, hdrs, ctype, out = answer
        with self.lock:
            self.stats["faults"] += 1
        return status, hdrs, ctype, out[:len(out) // 2]

    def _retry_after(self, wait):
        cfg = self.cfg
        if cfg["no_retry_after"]:
            return []
        secs = cfg["retry_after_seconds"]
        if secs is None:
            secs = max(1, int(math.ceil(wait)))
        if cfg["retry_after_date"]:
            return [("Retry-After", email.utils.formatdate(math.ceil(time.time() + secs),
                                                           usegmt=True))]
        return [("Retry-After", str(secs))]


# --------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300
    disable_nagle_algorithm = True

    def version_string(self):
        return "mock-twingate/1.0"

    _quiet = False

    def log_request(self, code="-", size="-"):
        if not self._quiet:
            super().log_request(code, size)
        self._quiet = False

    def log_message(self, fmt, *args):
        if self.server.app.opts.verbose:
            sys.stderr.write("mock-twingate: %s %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, ctype, body, extra=()):
        cut = CUT_MARK in extra
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            if (k, v) != CUT_MARK:
                self.send_header(k, v)
        # one write for headers and body
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body[:len(body) // 2] if cut else body)
        self.flush_headers()
        if cut:
            self.close_connection = True  # the rest of the body never comes

    def _json(self, status, obj):
        self._send(status, "application/json", json.dumps(obj).encode("ascii"))

    def _route(self):
        path = self.path.split("?", 1)[0]
        if path in ("/api/graphql/", "/api/graphql"):
            return "graphql", path
        if path.startswith("/_mock/"):
            return "mock", path[len("/_mock/"):].rstrip("/")
        return None, path

    def do_POST(self):
        body = self._read_body()
        kind, rest = self._route()
        app = self.server.app
        if kind == "graphql":
            t0 = time.monotonic()
            # in flight from request received until just before the answer is written,
            # so max_in_flight never exceeds the client's real concurrency
            app.enter()
            try:
                status, hdrs, ctype, out = app.handle_graphql(self.headers, body)
            except Exception:
                import traceback
                traceback.print_exc(file=sys.stderr)
                status, hdrs, ctype = 500, [], "application/json"
                out = b'{"errors": [{"message": "Internal server error"}]}'
            finally:
                app.leave()
            self._quiet = True
            self._send(status, ctype, out, hdrs)
            if app.opts.verbose:
                sys.stderr.write("mock-twingate: POST %s %d %d bytes %.1f ms\n"
                                 % (self.path, status, len(out), (time.monotonic() - t0) * 1000))
        elif kind == "mock" and self._local():
            try:
                payload = json.loads(body.decode("utf-8")) if body else {}
            except ValueError:
                return self._json(400, {"error": "invalid JSON"})
            if rest == "reset-stats":
                app.reset_stats()
                self._json(200, {"ok": True})
            elif rest == "config":
                try:
                    self._json(200, app.set_config(payload or {}))
                except (ValueError, TypeError) as e:
                    self._json(400, {"error": str(e)})
            elif rest == "reset":
                app.reset_tenant()
                self._json(200, {"ok": True})
            elif rest in ("schedule", "page-fault"):
                try:
                    fn = app.changes.schedule if rest == "schedule" else app.changes.page_fault
                    self._json(200, fn(payload if isinstance(payload, dict) else {}))
                except ValueError as e:
                    self._json(400, {"error": str(e)})
            else:
                self._send(404, "text/html", HTML_404)
        else:
            self._send(404, "text/html", HTML_404)

    def do_GET(self):
        kind, rest = self._route()
        app = self.server.app
        if kind == "graphql":
            self._send(405, "application/json", json.dumps(
                {"errors": [{"message": "Only POST requests are allowed."}]}).encode("ascii"),
                [("Allow", "POST")])
        elif kind == "mock" and self._local():
            if rest == "truth":
                self._json(200, app.truth())
            elif rest == "stats":
                self._json(200, app.stats_snapshot())
            elif rest == "config":
                with app.lock:
                    self._json(200, dict(app.cfg))
            elif rest == "health":
                self._json(200, {"ok": True})
            elif rest == "schedule":
                self._json(200, app.changes.state())
            else:
                self._send(404, "text/html", HTML_404)
        else:
            self._send(404, "text/html", HTML_404)

    do_HEAD = do_GET

    def _other(self):
        self._read_body()
        self._send(405 if self._route()[0] == "graphql" else 404, "text/html", HTML_404)

    do_PUT = do_DELETE = do_PATCH = _other

    def _local(self):
        return self.client_address[0].startswith("127.") or self.client_address[0] == "::1"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        if self.app.opts.verbose:
            super().handle_error(request, client_address)


def make_parser():
    p = argparse.ArgumentParser(description="Mock Twingate Admin GraphQL API")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free)")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--schema", default=DEFAULT_SCHEMA, help="schema.graphql path")
    p.add_argument("--api-key", default="demo-key", help="read/write X-API-KEY")
    p.add_argument("--read-only-key", default=None, help="X-API-KEY allowed to query only")
    p.add_argument("--tenant", choices=["demo", "synthetic"], default="demo")
    p.add_argument("--demo-file", default=DEFAULT_DEMO, help="demo tenant JSON")
    p.add_argument("--seed", type=int, default=1, help="synthetic: random seed")
    p.add_argument("--users", type=int, default=1000, help="synthetic: number of users")
    p.add_argument("--groups", type=int, default=60, help="synthetic: number of groups")
    p.add_argument("--reads-per-minute", type=int, default=0, help="0 = unlimited")
    p.add_argument("--writes-per-minute", type=int, default=0, help="0 = unlimited")
    p.add_argument("--rate-window-seconds", type=float, default=60.0)
    p.add_argument("--retry-after-seconds", type=int, default=None,
                   help="fixed Retry-After value (default: time until a slot frees)")
    p.add_argument("--retry-after-date", action="store_true",
                   help="send Retry-After as an HTTP-date")
    p.add_argument("--no-retry-after", action="store_true", help="omit Retry-After on 429")
    p.add_argument("--fail-every", type=int, default=0, help="every Nth request: 503 HTML")
    p.add_argument("--truncate-every", type=int, default=0,
                   help="every Nth answered request: body cut in half (state unchanged)")
    p.add_argument("--fail-first", type=int, default=0, help="first N requests: 502 HTML")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added delay per request")
    p.add_argument("--cut-mutations", type=int, default=0,
                   help="the next N mutations are applied, then their answer is cut mid-body "
                        "(full Content-Length, half the body, connection closed)")
    p.add_argument("--fail-after-cut", type=int, default=0,
                   help="after each cut answer, the next N requests answer 502")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return p


def main(argv=None):
    opts = make_parser().parse_args(argv)
    logging.getLogger("graphql").addHandler(logging.NullHandler())
    logging.getLogger("graphql").propagate = False
    t0 = time.monotonic()
    app = MockApp(opts)
    server = Server(("127.0.0.1", opts.port), Handler)
    server.app = app
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    thread.start()
    if opts.port_file:
        tmp = "%s.tmp.%d" % (opts.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts.port_file)
    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()
    if opts.verbose:
        sys.stderr.write("mock-twingate: tenant=%s users=%d groups=%d ready in %.2f s\n"
                         % (opts.tenant, len(app.tenant.users), len(app.tenant.groups),
                            time.monotonic() - t0))
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
