# azd preprovision hook (Windows): recover a soft-deleted Key Vault of this environment. See azd-preprovision.sh for the why.
$ErrorActionPreference = 'Stop'

$mode = 'default'
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Warning 'preprovision: the Azure CLI (az) is not installed; cannot look for a soft-deleted Key Vault (see docs/deploy.md, "Provisioning again after azd down").'
} else {
  $name = $env:KEY_VAULT_NAME
  if ($name) {
    az keyvault show-deleted --name $name --query name -o tsv 2>$null | Out-Null
    if ($LASTEXITCODE -eq 0) { $mode = 'recover' }
  } else {
    $query = "[?properties.tags.""azd-env-name""=='$($env:AZURE_ENV_NAME)' && properties.location=='$($env:AZURE_LOCATION)'].name | [0]"
    $found = az keyvault list-deleted --resource-type vault --query $query -o tsv 2>$null
    if ($LASTEXITCODE -eq 0 -and $found) { $name = $found; $mode = 'recover' }
  }
  if ($mode -eq 'recover') {
    Write-Host "preprovision: Key Vault $name is soft-deleted (azd down); this provision recovers it with its secrets."
  }
}

azd env set KEY_VAULT_CREATE_MODE $mode
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
