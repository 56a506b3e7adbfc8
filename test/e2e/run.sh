#!/usr/bin/env bash
# End-to-end test on a real cluster (kind): image build → kind load → helm install →
# sample frontend + ImageOptimizer → Ready → /_next/image through the gateway (relative
# and absolute URL) → optimizer scaled to 3 → Valkey appears, images still served →
# CR deleted → children gone.
#
#   bash test/e2e/run.sh
#
# The full story (pod deletion under load, config roll, operator failover, helm uninstall)
# runs on the cluster tier, without Docker: test/e2e/quickstart.cluster.test.ts
# (`npx vitest run --project cluster`), with the same manifests as here.
#
# Needs docker (with a reachable daemon), kind, kubectl and helm. Without them it prints
# one line starting with "SKIP e2e:" and exits 0 (test/e2e/skip.test.ts checks that).
#
# Environment:
#   E2E_CLUSTER        kind cluster name (default next-image-e2e)
#   E2E_KEEP_CLUSTER   1: keep the cluster afterwards (default: delete it if this run made it)
#   E2E_IMAGE          image name:tag to build and load (default localhost/next-image:e2e)
#   E2E_SKIP_BUILD     1: use an E2E_IMAGE already present in docker
#   HELM, KIND, KUBECTL, DOCKER  binaries to use (default: from PATH)
set -euo pipefail

HELM=${HELM:-helm}
KIND=${KIND:-kind}
KUBECTL=${KUBECTL:-kubectl}
DOCKER=${DOCKER:-docker}

missing=()
for tool in "$DOCKER" "$KIND" "$KUBECTL" "$HELM"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$(basename "$tool")")
done
if command -v "$DOCKER" >/dev/null 2>&1 && ! "$DOCKER" info >/dev/null 2>&1; then
  missing+=("a running docker daemon")
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "SKIP e2e: needs docker (daemon running), kind, kubectl and helm; missing: ${missing[*]}"
  exit 0
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER=${E2E_CLUSTER:-next-image-e2e}
IMAGE=${E2E_IMAGE:-localhost/next-image:e2e}
FRONTEND_IMAGE=ghcr.io/next-image-operator/sample-frontend:0.1.0
OPERATOR_NS=next-image-system
NS=e2e
CR=images
PORT=18080
WORK=$(mktemp -d)
CREATED_CLUSTER=0
PF_PID=

log() { printf '\n== %s\n' "$*" >&2; }
fail() { echo "FAIL e2e: $*" >&2; exit 1; }

stop_port_forward() {
  if [[ -n "$PF_PID" ]]; then
    kill "$PF_PID" 2>/dev/null || true
    wait "$PF_PID" 2>/dev/null || true
    PF_PID=
  fi
}

dump() {
  log "diagnostics"
  "$KUBECTL" get all,imageoptimizers,events -n "$NS" -o wide 2>&1 || true
  "$KUBECTL" get imageoptimizer "$CR" -n "$NS" -o yaml 2>&1 || true
  "$KUBECTL" logs -n "$OPERATOR_NS" -l app.kubernetes.io/component=operator --tail=200 2>&1 || true
  "$KUBECTL" logs -n "$NS" -l app.kubernetes.io/instance="$CR" --all-containers --tail=100 2>&1 || true
}

cleanup() {
  local code=$?
  stop_port_forward
  [[ $code -ne 0 ]] && dump
  if [[ $CREATED_CLUSTER -eq 1 && "${E2E_KEEP_CLUSTER:-0}" != 1 ]]; then
    "$KIND" delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit $code
}
trap cleanup EXIT

# Starts `kubectl port-forward` to the gateway Service and waits until it accepts.
port_forward_gateway() {
  stop_port_forward
  "$KUBECTL" port-forward -n "$NS" "svc/$CR-gateway" "$PORT:80" >"$WORK/pf.log" 2>&1 &
  PF_PID=$!
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
    sleep 0.2
  done
  cat "$WORK/pf.log" >&2
  fail "port-forward to svc/$CR-gateway did not come up"
}

# GET /_next/image for $1 (already URL-encoded), expecting 200 and a WebP body.
fetch_image() {
  local url=$1 label=$2 headers="$WORK/headers" body="$WORK/body"
  local status
  status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' -H 'Accept: image/webp,*/*' \
    "http://127.0.0.1:$PORT/_next/image?url=$url&w=32&q=75")
  [[ $status == 200 ]] || { cat "$headers" "$body" >&2; fail "$label: /_next/image answered $status"; }
  grep -qi '^content-type: image/webp' "$headers" || { cat "$headers" >&2; fail "$label: not image/webp"; }
  [[ $(head -c 4 "$body") == RIFF ]] || fail "$label: the body is not a WebP file"
  echo "ok: $label → 200 image/webp ($(wc -c <"$body") bytes)" >&2
}

fetch_both() {
  port_forward_gateway
  fetch_image '%2Fmountains.jpg' "relative URL $1"
  fetch_image "http%3A%2F%2Fcdn.$NS.svc.cluster.local%2Fflowers.jpg" "absolute URL (CDN) $1"
  local page
  page=$(curl -sS "http://127.0.0.1:$PORT/")
  [[ $page == *_next/image* ]] || fail "$1: the gateway did not send / to the frontend"
  stop_port_forward
}

log "kind cluster $CLUSTER"
if ! "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  "$KIND" create cluster --name "$CLUSTER" --wait 120s
  CREATED_CLUSTER=1
fi
"$KUBECTL" config use-context "kind-$CLUSTER" >/dev/null

if [[ "${E2E_SKIP_BUILD:-0}" != 1 ]]; then
  log "docker build $IMAGE"
  "$DOCKER" build -t "$IMAGE" "$ROOT"
  log "docker build $FRONTEND_IMAGE"
  "$DOCKER" build -t "$FRONTEND_IMAGE" "$ROOT/test/e2e/frontend"
fi
log "kind load $IMAGE $FRONTEND_IMAGE"
"$KIND" load docker-image "$IMAGE" "$FRONTEND_IMAGE" --name "$CLUSTER"

log "helm install"
"$HELM" upgrade --install next-image "$ROOT/charts/next-image-operator" \
  --namespace "$OPERATOR_NS" --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" \
  --set image.pullPolicy=IfNotPresent --wait --timeout 180s

log "frontend and ImageOptimizer in namespace $NS"
"$KUBECTL" create namespace "$NS" --dry-run=client -o yaml | "$KUBECTL" apply -f -
"$KUBECTL" apply -n "$NS" -f "$ROOT/examples/quickstart/frontend.yaml" -f "$ROOT/test/e2e/manifests/cdn.yaml"
"$KUBECTL" rollout status -n "$NS" deployment/frontend --timeout=120s
"$KUBECTL" rollout status -n "$NS" deployment/cdn --timeout=120s
sed "s/E2E_NAMESPACE/$NS/" "$ROOT/test/e2e/manifests/imageoptimizer.yaml" | "$KUBECTL" apply -n "$NS" -f -
"$KUBECTL" wait -n "$NS" "imageoptimizer/$CR" --for=condition=Ready --timeout=180s

log "/_next/image through the gateway"
fetch_both "(1 optimizer)"

log "scale the optimizer to 3"
"$KUBECTL" scale -n "$NS" "imageoptimizer/$CR" --replicas=3
for _ in $(seq 1 60); do
  "$KUBECTL" get -n "$NS" "deployment/$CR-valkey" >/dev/null 2>&1 && break
  sleep 2
done
"$KUBECTL" get -n "$NS" "deployment/$CR-valkey" >/dev/null || fail "no Valkey after scaling to 3"
"$KUBECTL" rollout status -n "$NS" "deployment/$CR-valkey" --timeout=120s
"$KUBECTL" rollout status -n "$NS" "deployment/$CR-optimizer" --timeout=180s
"$KUBECTL" wait -n "$NS" "imageoptimizer/$CR" --for=condition=Ready --timeout=180s
ready=$("$KUBECTL" get -n "$NS" "deployment/$CR-optimizer" -o jsonpath='{.status.readyReplicas}')
[[ $ready == 3 ]] || fail "optimizer has $ready ready replicas, expected 3"
fetch_both "(3 optimizers + Valkey)"

log "delete the ImageOptimizer"
"$KUBECTL" delete -n "$NS" "imageoptimizer/$CR" --wait=true --timeout=60s
for kind in deployment/$CR-optimizer deployment/$CR-gateway deployment/$CR-valkey \
  service/$CR-optimizer service/$CR-gateway service/$CR-valkey; do
  "$KUBECTL" wait -n "$NS" "$kind" --for=delete --timeout=120s >/dev/null 2>&1 || true
  if "$KUBECTL" get -n "$NS" "$kind" >/dev/null 2>&1; then fail "$kind still exists after deleting the CR"; fi
done
left=$("$KUBECTL" get deploy,svc,secret,configmap,hpa,pdb,networkpolicy -n "$NS" \
  -l app.kubernetes.io/instance="$CR" -o name)
[[ -z $left ]] || fail "children left after deleting the CR: $left"

echo "PASS e2e: kind $CLUSTER, image $IMAGE"
