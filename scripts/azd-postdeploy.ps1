# azd postdeploy hook (Windows): phase two of the deployment. See azd-postdeploy.sh for the why.
$ErrorActionPreference = 'Stop'

if ($env:DEPLOY_EVENT_SUBSCRIPTION -eq 'true') {
  Write-Host 'postdeploy: DEPLOY_EVENT_SUBSCRIPTION is already true; the provision step of this run created or updated the event subscription.'
  exit 0
}

azd env set DEPLOY_EVENT_SUBSCRIPTION true
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

for ($attempt = 1; $attempt -le 4; $attempt++) {
  azd provision --no-prompt
  if ($LASTEXITCODE -eq 0) {
    Write-Host 'postdeploy: Event Grid subscription in place.'
    exit 0
  }
  if ($attempt -lt 4) {
    Write-Warning "postdeploy: attempt $attempt failed (is onResourceEvent indexed yet?); retrying in 30 s"
    Start-Sleep -Seconds 30
  }
}
Write-Error 'postdeploy: provisioning the Event Grid subscription failed; check that onResourceEvent is listed in the portal, then run: azd provision'
exit 1
