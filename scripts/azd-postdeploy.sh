#!/bin/sh
# azd postdeploy hook: phase two of the deployment.
#
# Event Grid validates an AzureFunction destination when the event subscription is created, so the
# onResourceEvent function must already exist, which is only true after `azd deploy` has uploaded
# the code and the host has indexed it. Phase one (azd provision) therefore runs with
# deployEventSubscription=false; this hook sets DEPLOY_EVENT_SUBSCRIPTION=true in the azd
# environment (main.bicepparam reads it) and provisions again. Later `azd up` runs keep it true,
# which is fine because the function exists by then. Provisioning is idempotent.
set -eu

if [ "${DEPLOY_EVENT_SUBSCRIPTION:-}" = "true" ]; then
  echo "postdeploy: DEPLOY_EVENT_SUBSCRIPTION is already true; the provision step of this run created or updated the event subscription."
  exit 0
fi

azd env set DEPLOY_EVENT_SUBSCRIPTION true

# The function can take a little while to appear after a deployment: retry the provision a few times.
attempt=1
until azd provision --no-prompt; do
  if [ "$attempt" -ge 4 ]; then
    echo "postdeploy: provisioning the Event Grid subscription failed $attempt times." >&2
    echo "postdeploy: check that the onResourceEvent function is listed in the portal, then run: azd provision" >&2
    exit 1
  fi
  echo "postdeploy: attempt $attempt failed (is onResourceEvent indexed yet?); retrying in 30 s" >&2
  attempt=$((attempt + 1))
  sleep 30
done
echo "postdeploy: Event Grid subscription in place."
