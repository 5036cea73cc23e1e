#!/usr/bin/env bash
# Validates the deployment files without a cluster or Docker: the Kubernetes manifests against the
# API schemas (kubernetes-validate, strict), the kustomization's resource list, and every
# CARD_GATEWAY__* variable in the manifests and the compose file against the configuration keys of
# config/default.toml (a misspelt key would otherwise be ignored at run time... or refuse start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  python3 -m pip install -q kubernetes-validate pyyaml >/dev/null 2>&1 || true
fi
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then echo "kubernetes-validate could not be installed" >&2; exit 1; fi
  echo "!!! SKIPPING manifest schema validation: kubernetes-validate not installed !!!" >&2
else
  # Core kinds only; the ServiceMonitor is a Prometheus Operator CRD.
  (cd deploy/k8s && kubernetes-validate -k 1.30.0 --strict --quiet \
    configmap.yaml secret.yaml deployment.yaml service.yaml pdb.yaml hpa.yaml)
fi
python3 - <<'PY'
import pathlib, re, sys, tomllib, yaml
root = pathlib.Path(".")
defaults = tomllib.loads((root / "config/default.toml").read_text())
def has(path):
    node = defaults
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True
problems = []
k = yaml.safe_load((root / "deploy/k8s/kustomization.yaml").read_text())
for res in k["resources"]:
    if not (root / "deploy/k8s" / res).exists():
        problems.append(f"kustomization lists a missing file: {res}")
compose = yaml.safe_load((root / "deploy/compose.yaml").read_text())
for svc in ("redis", "merchant-sim", "gateway"):
    if svc not in compose.get("services", {}):
        problems.append(f"compose.yaml lacks service {svc}")
names = set()
for f in ["deploy/k8s/configmap.yaml", "deploy/k8s/secret.yaml"]:
    doc = yaml.safe_load((root / f).read_text())
    names |= set((doc.get("data") or {}) | (doc.get("stringData") or {}))
for svc in compose["services"].values():
    names |= set((svc.get("environment") or {}))
for name in sorted(names):
    if not name.startswith("CARD_GATEWAY__"):
        continue
    path = [p.lower() for p in name[len("CARD_GATEWAY__"):].split("__")]
    if not has(path):
        problems.append(f"{name}: no such configuration key {'.'.join(path)}")
# Alert rules and the dashboard may only name metrics the gateway exports (or standard process_*).
src = "\n".join(p.read_text() for p in (root / "src").rglob("*.rs"))
exported = set(re.findall(r'"(card_gateway_[a-z_]+)"', src)) | {"card_gateway_webhooks_total", "card_gateway_build_info"}
def metric_names(expr):
    return set(re.findall(r'\b(card_gateway_[a-z_]+?)(?:_bucket|_sum|_count)?\b(?=[\s{\[)]|$)', expr))
rules = yaml.safe_load((root / "deploy/prometheus/alerts.yaml").read_text())
exprs = []
for g in rules["groups"]:
    for r in g["rules"]:
        if not r.get("alert") or not r.get("expr"):
            problems.append(f"alert rule without alert/expr: {r}")
        exprs.append(r.get("expr", ""))
import json
dash = json.loads((root / "deploy/grafana/card-gateway.json").read_text())
exprs += [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
for e in exprs:
    for m in metric_names(e):
        base = re.sub(r'_(bucket|sum|count)$', '', m)
        if base not in exported:
            problems.append(f"deploy/ names a metric the gateway does not export: {m}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"deploy/: manifests valid, {len(names)} configuration variables all known, {len(exprs)} alert/panel queries use exported metrics")
PY
