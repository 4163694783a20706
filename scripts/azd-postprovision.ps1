# azd postprovision hook (Windows): puts the Panorama credential into Key Vault, never into a file.
# See azd-postprovision.sh for the why; the steps are the same.
$ErrorActionPreference = 'Stop'

$vault = $env:KEY_VAULT_NAME
$secret = $env:PANORAMA_SECRET_NAME
if (-not $vault -or -not $secret) {
  Write-Error 'postprovision: KEY_VAULT_NAME or PANORAMA_SECRET_NAME is not in the azd environment (did provision fail?)'
  exit 1
}
if ($env:PANORAMA_USERNAME) {
  $what = "password of the Panorama administrator $($env:PANORAMA_USERNAME)"
  $value = $env:PANORAMA_PASSWORD
  $source = 'PANORAMA_PASSWORD'
} else {
  $what = 'Panorama API key'
  $value = $env:PANORAMA_API_KEY
  $source = 'PANORAMA_API_KEY'
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Error "postprovision: the Azure CLI (az) is needed to write the $what to Key Vault $vault; see docs/deploy.md (""Secrets"")."
  exit 1
}

function Invoke-WithRetry([scriptblock]$Action) {
  for ($attempt = 1; $attempt -le 12; $attempt++) {
    $result = & $Action
    if ($LASTEXITCODE -eq 0) { return , $result }
    Write-Warning "postprovision: Key Vault $vault refused the request (role assignment not applied yet?); retrying in 15 s"
    Start-Sleep -Seconds 15
  }
  throw "postprovision: Key Vault $vault kept refusing; the signed-in account needs Key Vault Secrets Officer there (is az signed in as the same account as azd?)."
}

$present = Invoke-WithRetry { az keyvault secret list --vault-name $vault --query "[?name=='$secret'].name | [0]" -o tsv }
if ($present -and -not $value) {
  Write-Host "postprovision: the $what is in Key Vault $vault (secret $secret). To rotate it, set a new version: see docs/deploy.md (""Secrets"")."
  exit 0
}

if (-not $value) {
  if ([Console]::IsInputRedirected) {
    Write-Error "postprovision: the $what is not in Key Vault $vault and there is no terminal to ask for it. Run ``azd env set $source <value>`` and ``azd provision``, or write the secret $secret yourself (docs/deploy.md, ""Secrets"")."
    exit 1
  }
  $secure = Read-Host -AsSecureString -Prompt "postprovision: the $what (input hidden)"
  $value = [System.Net.NetworkCredential]::new('', $secure).Password
  if (-not $value) {
    Write-Error "postprovision: nothing entered; the app cannot call Panorama until secret $secret exists in Key Vault $vault."
    exit 1
  }
}

$file = [System.IO.Path]::GetTempFileName()
try {
  if (-not $IsWindows) { chmod 600 $file }
  [System.IO.File]::WriteAllText($file, $value)
  $value = $null
  Invoke-WithRetry { az keyvault secret set --vault-name $vault --name $secret --file $file --encoding utf-8 --content-type text/plain --output none } | Out-Null
} finally {
  Remove-Item -Force $file -ErrorAction SilentlyContinue
}
Write-Host "postprovision: wrote the $what to Key Vault $vault (secret $secret)."

if ($env:AZURE_FUNCTION_APP_NAME -and $env:AZURE_RESOURCE_GROUP) {
  az functionapp restart --name $env:AZURE_FUNCTION_APP_NAME --resource-group $env:AZURE_RESOURCE_GROUP --output none
  if ($LASTEXITCODE -ne 0) { Write-Warning "postprovision: restarting $($env:AZURE_FUNCTION_APP_NAME) failed; restart it to resolve the new secret." }
}
if ($env:PANORAMA_API_KEY -or $env:PANORAMA_PASSWORD) {
  Write-Host "postprovision: $source is also in the azd environment (.azure/$($env:AZURE_ENV_NAME)/.env, not committed); remove it there once you no longer need it."
}
