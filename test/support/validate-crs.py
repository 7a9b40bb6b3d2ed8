"""Validates custom resources against their CustomResourceDefinitions' OpenAPI v3 schemas, strictly.

  validate-crs.py CRD_DIR MANIFEST.yaml...

Every document whose apiVersion/kind matches a CRD in CRD_DIR (e.g. the Prometheus Operator's
ServiceMonitor, PodMonitor, PrometheusRule) is checked against the schema of its served version,
with unknown fields rejected the way `kubectl apply --validate=strict` rejects them: every object
schema that lists properties and neither allows additional ones nor preserves unknown fields gets
additionalProperties: false. A custom resource without a CRD is an error; other documents are
skipped (the Kubernetes schemas check those). Prints one line per problem; exit 1 if any.
"""
import copy
import glob
import os
import sys

import jsonschema
import yaml


def strict(schema):
    """The CRD schema as JSON Schema (draft 4 matches OpenAPI 3.0), closed to unknown fields."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, list):
            for n in node:
                walk(n)
            return
        if not isinstance(node, dict):
            return
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key, value in node.items():
            if key == "properties":
                for prop in value.values():
                    walk(prop)
            elif key in ("items", "additionalProperties", "not"):
                walk(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                walk(value)

    walk(s)
    # metadata is checked by the Kubernetes ObjectMeta schema (the caller), not left open here.
    return s


def load_crds(directory):
    crds = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                group = doc["spec"]["group"]
                kind = doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    if version.get("served"):
                        crds[(f"{group}/{version['name']}", kind)] = strict(version["schema"]["openAPIV3Schema"])
    return crds


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    crds = load_crds(argv[1])
    groups = {api.split("/")[0] for api, _ in crds}
    problems = 0
    checked = 0
    for path in argv[2:]:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
            name = (doc.get("metadata") or {}).get("name", "?")
            schema = crds.get((api, kind))
            if schema is None:
                if api.split("/")[0] in groups:
                    print(f"{path}: {kind} {name}: no CRD for {api} {kind}")
                    problems += 1
                continue
            checked += 1
            validator = jsonschema.Draft4Validator(schema)
            for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
                where = "/".join(str(p) for p in err.absolute_path) or "(root)"
                print(f"{path}: {kind} {name}: {where}: {err.message}")
                problems += 1
    print(f"checked {checked} custom resource(s), {problems} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
