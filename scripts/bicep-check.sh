#!/usr/bin/env bash
# Builds and lints the Bicep in infra/ with the real Bicep CLI; fails on any error or linter warning.
#
#   bash scripts/bicep-check.sh            build + lint every .bicep and main.bicepparam
#   bash scripts/bicep-check.sh --build-main   only compile infra/main.bicep to .cache/bicep/main.json
#
# The CLI is `bicep` from PATH when there is one (override with BICEP=/path/to/bicep), otherwise the
# self-contained Azure.Bicep.CommandLine.linux-x64 package restored from NuGet with `dotnet` into
# .cache/bicep/ (git-ignored). Set BICEP_VERSION to pick another package version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA="$ROOT/infra"
CACHE="$ROOT/.cache/bicep"
BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
PACKAGE="Azure.Bicep.CommandLine.linux-x64"
MODE="${1:-all}"

case "$MODE" in
  all | --build-main) ;;
  *)
    echo "usage: $0 [--build-main]" >&2
    exit 2
    ;;
esac

log() { printf 'bicep-check: %s\n' "$*"; }

resolve_bicep() {
  if [[ -n "${BICEP:-}" ]]; then
    log "using BICEP=$BICEP"
    return
  fi
  if command -v bicep >/dev/null 2>&1; then
    BICEP="$(command -v bicep)"
    log "using bicep from PATH: $BICEP"
    return
  fi
  local id
  id="$(printf '%s' "$PACKAGE" | tr '[:upper:]' '[:lower:]')"
  BICEP="$CACHE/packages/$id/$BICEP_VERSION/tools/bicep"
  if [[ ! -f "$BICEP" ]]; then
    if ! command -v dotnet >/dev/null 2>&1; then
      echo "bicep-check: no bicep on PATH and no dotnet to restore $PACKAGE from NuGet" >&2
      exit 1
    fi
    log "restoring $PACKAGE $BICEP_VERSION from NuGet into ${CACHE#"$ROOT"/}/packages"
    local project
    project="$(mktemp -d)"
    cat >"$project/restore-bicep.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net$(dotnet --version | cut -d. -f1).0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$PACKAGE" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
EOF
    mkdir -p "$CACHE/packages"
    if ! DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet restore "$project/restore-bicep.csproj" \
      --packages "$CACHE/packages" >"$project/restore.log" 2>&1; then
      cat "$project/restore.log" >&2
      rm -rf "$project"
      echo "bicep-check: restoring $PACKAGE $BICEP_VERSION failed" >&2
      exit 1
    fi
    rm -rf "$project"
  else
    log "using cached $PACKAGE $BICEP_VERSION"
  fi
  chmod +x "$BICEP"
}

# Runs bicep and fails when it exits non-zero or prints any diagnostic (error or warning).
run_bicep() {
  local output status=0
  output="$("$BICEP" "$@" 2>&1)" || status=$?
  if [[ -n "$output" ]]; then
    printf '%s\n' "$output" >&2
  fi
  if ((status != 0)); then
    echo "bicep-check: FAILED (exit $status): bicep $*" >&2
    exit 1
  fi
  if grep -Eq ' : (Error|Warning) ' <<<"$output"; then
    echo "bicep-check: FAILED (diagnostics above): bicep $*" >&2
    exit 1
  fi
}

# main.bicepparam reads environment variables: check it with fixed placeholders, never the caller's.
unset DEPLOY_EVENT_SUBSCRIPTION EXISTING_SYSTEM_TOPIC_NAME EXISTING_SYSTEM_TOPIC_RESOURCE_GROUP
unset PANORAMA_USERNAME AZURE_PRINCIPAL_ID KEY_VAULT_CREATE_MODE TIMER_ONLY_SUBSCRIPTIONS ALERT_EMAIL
export AZURE_ENV_NAME=bicep-check
export PANORAMA_URL=https://panorama.example.net
export CLUSTERS='[{"name":"aks-check","subscriptionId":"00000000-0000-0000-0000-000000000000","resourceGroup":"rg-aks"}]'

started=$SECONDS
resolve_bicep
log "$("$BICEP" --version)"
mkdir -p "$CACHE"

if [[ "$MODE" == "--build-main" ]]; then
  log "build infra/main.bicep -> ${CACHE#"$ROOT"/}/main.json"
  run_bicep build "$INFRA/main.bicep" --outfile "$CACHE/main.json"
  log "done in $((SECONDS - started)) s"
  exit 0
fi

mapfile -t files < <(cd "$ROOT" && find infra -type f \( -name '*.bicep' -o -name '*.bicepparam' \) | sort)
mapfile -t templates < <(printf '%s\n' "${files[@]}" | grep '\.bicep$')
log "lint ${#files[@]} files: ${files[*]}"
run_bicep lint --pattern "$INFRA/**/*.bicep*"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log "build ${#templates[@]} templates, and build-params infra/main.bicepparam (in parallel)"
run_bicep build --pattern "$INFRA/**/*.bicep" --outdir "$out/templates" &
build_pid=$!
run_bicep build-params "$INFRA/main.bicepparam" --outfile "$out/main.parameters.json" &
params_pid=$!
build_status=0 params_status=0
wait "$build_pid" || build_status=$?
wait "$params_pid" || params_status=$?
if ((build_status != 0 || params_status != 0)); then
  exit 1
fi
built="$(find "$out/templates" -name '*.json' | wc -l)"
if ((built != ${#templates[@]})); then
  echo "bicep-check: FAILED: expected ${#templates[@]} compiled templates, found $built" >&2
  exit 1
fi
cp "$out/templates/main.json" "$CACHE/main.json"
log "compiled infra/main.bicep -> ${CACHE#"$ROOT"/}/main.json"

log "OK: no errors, no warnings ($((SECONDS - started)) s)"
