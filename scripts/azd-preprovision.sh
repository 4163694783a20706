#!/bin/sh
# azd preprovision hook: lets the same environment be provisioned again after `azd down`.
#
# The Key Vault has purge protection, and its name is deterministic (kv-<uniqueString(subscription,
# environment, location)>). `azd down` soft-deletes it, and Azure then keeps the name taken for the
# retention period (90 days): creating a vault with that name fails, purging is refused. So, before
# every provision, this hook looks for a soft-deleted vault of this environment and sets
# KEY_VAULT_CREATE_MODE=recover when it finds one (main.bicepparam passes it to keyVault.bicep as
# createMode), which brings the vault back with its secrets; otherwise KEY_VAULT_CREATE_MODE=default.
# It needs the Azure CLI (`az login` with the same account as `azd auth login`).
set -eu

mode=default
if ! command -v az >/dev/null 2>&1; then
  echo "preprovision: the Azure CLI (az) is not installed; cannot look for a soft-deleted Key Vault (see docs/deploy.md, \"Provisioning again after azd down\")." >&2
else
  name="${KEY_VAULT_NAME:-}"
  if [ -n "$name" ]; then
    # Known from an earlier provision of this environment: recover it if it is soft-deleted.
    if az keyvault show-deleted --name "$name" --query name -o tsv >/dev/null 2>&1; then
      mode=recover
    fi
  else
    # A fresh azd environment with an old name: a deleted vault keeps its azd-env-name tag.
    found="$(az keyvault list-deleted --resource-type vault \
      --query "[?properties.tags.\"azd-env-name\"=='${AZURE_ENV_NAME:-}' && properties.location=='${AZURE_LOCATION:-}'].name | [0]" \
      -o tsv 2>/dev/null || true)"
    if [ -n "$found" ]; then
      name="$found"
      mode=recover
    fi
  fi
  if [ "$mode" = recover ]; then
    echo "preprovision: Key Vault $name is soft-deleted (azd down); this provision recovers it with its secrets."
  fi
fi

azd env set KEY_VAULT_CREATE_MODE "$mode"
