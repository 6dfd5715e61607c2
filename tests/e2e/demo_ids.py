"""Ids of the bundled demo tenant (tests/mock/demo_tenant.json) that the
provisioning tests act on: Twingate ids are base64 of "<Kind>:<number>"."""

import base64


def gid(n, kind):
    return base64.b64encode(("%s:%d" % (kind, n)).encode()).decode()


ALICE = gid(589701, "User")          # ADMIN, MANUAL, in Engineering
BOB = gid(589702, "User")            # DEVOPS, SYNCED
NEW_HIRE = gid(589705, "User")       # MEMBER, MANUAL, PENDING
EMEKA = gid(589707, "User")          # HELPDESK, MANUAL
EVERYONE = gid(34891, "Group")       # SYSTEM
ENGINEERING = gid(34892, "Group")    # MANUAL
ENGINEERING_SYNCED = gid(34893, "Group")
RELEASE = gid(34897, "Group")        # MANUAL, empty
