"""Independent checks of featurewatch webhook notifications, outside Node.

Reads one JSON document on stdin: {"checks": [...]} where each check is one of
  {"signature": {"secret": "whsec_…", "headers": {...}, "body": "<raw body>"}}
      verified with the Standard Webhooks reference library (PyPI `standardwebhooks`);
  {"schema": {"path": "schemas/alert.v1.schema.json", "document": {...}}}
      validated with `jsonschema` (Draft 2020-12, formats checked);
  {"fingerprint": {"labels": {...}}}
      Alertmanager's fingerprint, computed here from prometheus/common's definition
      (FNV-1a 64 over sorted label names, name and value each followed by 0xff).
Prints {"results": [...]}, one entry per check: {"ok": true, ...} or {"ok": false, "error": "…"}.
"""
import json
import sys

from jsonschema import Draft202012Validator, FormatChecker
from standardwebhooks.webhooks import Webhook


def fingerprint(labels):
    h = 14695981039346656037
    for name in sorted(labels):
        for b in name.encode() + b"\xff" + labels[name].encode() + b"\xff":
            h ^= b
            h = (h * 1099511628211) % (1 << 64)
    return format(h, "016x")


def run(check):
    try:
        if "signature" in check:
            c = check["signature"]
            Webhook(c["secret"]).verify(c["body"], c["headers"])
            return {"ok": True}
        if "schema" in check:
            c = check["schema"]
            with open(c["path"]) as f:
                schema = json.load(f)
            errors = [e.message for e in Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(c["document"])]
            return {"ok": not errors, "error": "; ".join(errors)}
        if "fingerprint" in check:
            return {"ok": True, "fingerprint": fingerprint(check["fingerprint"]["labels"])}
        return {"ok": False, "error": "unknown check"}
    except Exception as e:  # reported to the test, which fails with the message
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


print(json.dumps({"results": [run(c) for c in json.load(sys.stdin)["checks"]]}))
