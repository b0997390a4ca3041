"""Answers ACL queries with real Pyramid (pyramid.authorization.ACLHelper).

Reads JSON on stdin: {"cases": [{"resources": {path: acl-or-null}, "queries": [[path, principals, permission]]}]}
where an ACL is a list of [action, principal, permission | [permissions] | "ALL_PERMISSIONS"].
Writes JSON on stdout: per case, per query [allowed, ace_index or null, acl_path or null, sorted principals_allowed].
"""
import json
import sys

from pyramid.authorization import ALL_PERMISSIONS, ACLHelper, Allow, Deny
from pyramid.traversal import resource_path


class Resource:
    def __init__(self, name, parent):
        self.__name__ = name
        self.__parent__ = parent


def convert(acl):
    out = []
    for action, principal, perms in acl:
        if perms == "ALL_PERMISSIONS":
            perms = ALL_PERMISSIONS
        elif isinstance(perms, list):
            perms = tuple(perms)
        out.append((Allow if action == "Allow" else Deny, principal, perms))
    return out


def context_for(resources, path):
    root = Resource("", None)
    if resources.get("/") is not None:
        root.__acl__ = convert(resources["/"])
    node, cur = root, ""
    for seg in [s for s in path.split("/") if s]:
        cur += "/" + seg
        node = Resource(seg, node)
        if resources.get(cur) is not None:
            node.__acl__ = convert(resources[cur])
    return node


def main():
    data = json.load(sys.stdin)
    helper = ACLHelper()
    out = []
    for case in data["cases"]:
        answers = []
        for path, principals, permission in case["queries"]:
            ctx = context_for(case["resources"], path)
            result = helper.permits(ctx, principals, permission)
            if isinstance(result.ace, tuple):
                index = result.acl.index(result.ace)
                where = resource_path(result.context)
            else:  # '<default deny>'
                index, where = None, None
            allowed = sorted(helper.principals_allowed_by_permission(ctx, permission))
            answers.append([bool(result), index, where, allowed])
        out.append(answers)
    json.dump(out, sys.stdout)


main()
