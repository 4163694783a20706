#!/bin/sh
# azd postprovision hook: puts the Panorama credential into Key Vault, never into a file.
#
# The app reads PANORAMA_API_KEY (or PANORAMA_PASSWORD, when PANORAMA_USERNAME is set) as a Key Vault
# reference to the secret PANORAMA_SECRET_NAME (an output of infra/main.bicep). A reference to a
# missing secret reaches the app as its own text, which shared/config/keyVaultReferences.ts refuses.
# So: when the secret is missing, or a new value is in the azd environment (PANORAMA_API_KEY /
# PANORAMA_PASSWORD, e.g. for CI), this hook writes it; when neither is there it asks on the
# terminal, without echo. The value goes to `az keyvault secret set` through a file only this user
# may read, removed at once; never on a command line, never in .azure/. The deployer has Key Vault
# Secrets Officer through AZURE_PRINCIPAL_ID (rbac.bicep); a new assignment can take minutes to
# apply, hence the retries. Needs the Azure CLI signed in as the same account as azd.
set -eu

vault="${KEY_VAULT_NAME:?postprovision: KEY_VAULT_NAME is not in the azd environment (did provision fail?)}"
secret="${PANORAMA_SECRET_NAME:?postprovision: PANORAMA_SECRET_NAME is not in the azd environment (did provision fail?)}"
if [ -n "${PANORAMA_USERNAME:-}" ]; then
  what="password of the Panorama administrator ${PANORAMA_USERNAME}"
  value="${PANORAMA_PASSWORD:-}"
  source=PANORAMA_PASSWORD
else
  what="Panorama API key"
  value="${PANORAMA_API_KEY:-}"
  source=PANORAMA_API_KEY
fi

if ! command -v az >/dev/null 2>&1; then
  echo "postprovision: the Azure CLI (az) is needed to write the $what to Key Vault $vault; see docs/deploy.md (\"Secrets\")." >&2
  exit 1
fi

# Retries a command while the deployer's new role assignment on the vault is not yet in effect.
retry() {
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 12 ]; then return 1; fi
    echo "postprovision: Key Vault $vault refused the request (role assignment not applied yet?); retrying in 15 s" >&2
    attempt=$((attempt + 1))
    sleep 15
  done
}

list_secret() {
  present="$(az keyvault secret list --vault-name "$vault" --query "[?name=='$secret'].name | [0]" -o tsv)"
}
if ! retry list_secret; then
  echo "postprovision: cannot list the secrets of Key Vault $vault. The signed-in account needs Key Vault Secrets Officer there (AZURE_PRINCIPAL_ID gets it; is az signed in as the same account as azd?)." >&2
  exit 1
fi

if [ -n "$present" ] && [ -z "$value" ]; then
  echo "postprovision: the $what is in Key Vault $vault (secret $secret). To rotate it, set a new version: see docs/deploy.md (\"Secrets\")."
  exit 0
fi

if [ -z "$value" ]; then
  if [ ! -t 0 ]; then
    echo "postprovision: the $what is not in Key Vault $vault and there is no terminal to ask for it." >&2
    echo "postprovision: run \`azd env set $source <value>\` and \`azd provision\`, or write the secret $secret yourself (docs/deploy.md, \"Secrets\")." >&2
    exit 1
  fi
  trap 'stty echo 2>/dev/null || true' EXIT INT TERM
  printf 'postprovision: the %s (input hidden): ' "$what" >&2
  stty -echo
  IFS= read -r value || true
  stty echo
  printf '\n' >&2
  if [ -z "$value" ]; then
    echo "postprovision: nothing entered; the app cannot call Panorama until secret $secret exists in Key Vault $vault." >&2
    exit 1
  fi
fi

old_umask="$(umask)"
umask 077
file="$(mktemp)"
umask "$old_umask"
trap 'rm -f "$file"; stty echo 2>/dev/null || true' EXIT INT TERM
printf '%s' "$value" >"$file"
value=""
write_secret() {
  az keyvault secret set --vault-name "$vault" --name "$secret" --file "$file" --encoding utf-8 \
    --content-type text/plain --output none
}
if ! retry write_secret; then
  echo "postprovision: writing secret $secret to Key Vault $vault failed." >&2
  exit 1
fi
rm -f "$file"
echo "postprovision: wrote the $what to Key Vault $vault (secret $secret)."

# The app resolves Key Vault references when it starts (and within 24 h): restart it to pick the value up.
if [ -n "${AZURE_FUNCTION_APP_NAME:-}" ] && [ -n "${AZURE_RESOURCE_GROUP:-}" ]; then
  az functionapp restart --name "$AZURE_FUNCTION_APP_NAME" --resource-group "$AZURE_RESOURCE_GROUP" --output none ||
    echo "postprovision: restarting $AZURE_FUNCTION_APP_NAME failed; restart it to resolve the new secret." >&2
fi
if [ -n "${PANORAMA_API_KEY:-}${PANORAMA_PASSWORD:-}" ]; then
  echo "postprovision: $source is also in the azd environment (.azure/${AZURE_ENV_NAME:-<env>}/.env, not committed); remove it there once you no longer need it."
fi
