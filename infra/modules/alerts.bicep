metadata name = 'Alerts'
metadata description = 'Azure Monitor log search alerts on the Application Insights the app writes to: poisoned messages, failed recomputes, held removals, rejected entries, targets with no successful push, and a reconcile timer that stopped. Queries are in infra/queries/ and parse the fields each log line carries (shared/runtime/invocationLogger.ts).'

@description('Required. Name prefix of the alert rules, e.g. the function app name.')
param namePrefix string

@description('Required. Azure region (of the Application Insights component).')
param location string

@description('Optional. Tags for the rules and the action group.')
param tags object = {}

@description('Required. Name of the Application Insights component the app writes to.')
param applicationInsightsName string

@description('Optional. E-mail address the alerts notify (an action group is created for it). Empty: no e-mail; the alerts still fire and show in Azure Monitor.')
param alertEmail string = ''

@description('Optional. Resource ID of an existing action group to notify as well (paging, a ticket system). Empty: none.')
param actionGroupResourceId string = ''

@description('Optional. Hours without a successful push, while pushes fail, before "no successful push" fires.')
@minValue(1)
@maxValue(48)
param pushSilenceHours int = 1

@description('Optional. Minutes without a reconcile timer summary line before "not reconciling" fires (at least twice RECONCILE_SCHEDULE\'s interval).')
@minValue(15)
@maxValue(1440)
param reconcileSilenceMinutes int = 30

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource emailGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: take('ag-${namePrefix}', 260)
  #disable-next-line no-hardcoded-location // Action groups are global resources.
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'aks-pano'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actionGroups = concat(
  empty(alertEmail) ? [] : [emailGroup.id],
  empty(actionGroupResourceId) ? [] : [actionGroupResourceId]
)

// One rule per signal. count: the query returns one row per dimension value and Total sums itemCount
// (App Insights sampling keeps what it drops in itemCount); rows: a row per firing dimension value.
var rules = [
  {
    name: 'poisoned-messages'
    displayName: 'aks-panorama-sync: messages poisoned'
    description: 'Queue messages moved to a -poison queue. Fix the cause (status, the logs), then run replay-poison.'
    severity: 1
    query: loadTextContent('../queries/poisonedMessages.kql')
    window: 'PT15M'
    measure: 'Total'
    dimensions: ['cluster', 'target']
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'failed-recomputes'
    displayName: 'aks-panorama-sync: recomputes failed'
    description: 'Recomputes of a cluster failed; its tags are not updated until one succeeds.'
    severity: 2
    query: loadTextContent('../queries/failedRecomputes.kql')
    window: 'PT15M'
    measure: 'Total'
    dimensions: ['cluster', 'kind']
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'held-removals'
    displayName: 'aks-panorama-sync: removals held'
    description: 'The removal guard holds removals of a cluster (docs/removals.md): approve with reconcile --allow-removals, or fix the cause.'
    severity: 2
    query: loadTextContent('../queries/heldRemovals.kql')
    window: 'PT15M'
    measure: 'Total'
    dimensions: ['cluster']
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'rejected-entries'
    displayName: 'aks-panorama-sync: entries rejected'
    description: 'Panorama or a firewall refused register/unregister entries; status names them.'
    severity: 2
    query: loadTextContent('../queries/rejectedEntries.kql')
    window: 'PT15M'
    measure: 'Total'
    dimensions: ['cluster', 'target']
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'no-successful-push'
    displayName: 'aks-panorama-sync: no successful push'
    description: 'Pushes to a target failed and none succeeded in the window (Panorama or the firewall unreachable, the API key refused).'
    severity: 1
    query: loadTextContent('../queries/noSuccessfulPush.kql')
    window: 'PT${pushSilenceHours}H'
    measure: ''
    dimensions: ['target']
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'not-reconciling'
    displayName: 'aks-panorama-sync: not reconciling'
    description: 'The reconcile timer wrote no summary: the app is stopped, its configuration is refused (GET /api/status says why) or it cannot list clusters.'
    severity: 1
    query: loadTextContent('../queries/notReconciling.kql')
    window: 'PT${reconcileSilenceMinutes}M'
    measure: 'Total'
    dimensions: []
    operator: 'LessThan'
    threshold: 1
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: rule.window
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: empty(rule.measure) ? 'Count' : 'Total'
            metricMeasureColumn: empty(rule.measure) ? null : rule.measure
            dimensions: [
              for dimension in rule.dimensions: {
                name: dimension
                operator: 'Include'
                values: [
                  '*'
                ]
              }
            ]
            operator: rule.operator
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: actionGroups
      }
    }
  }
]

@description('Names of the alert rules.')
output ruleNames string[] = [for (rule, i) in rules: alertRules[i].name]
