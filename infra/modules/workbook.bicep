metadata name = 'Workbook'
metadata description = 'An Azure Monitor workbook on the app\'s Application Insights: clusters (last recompute and counts), targets (last push and counts), alert signals over time and recent errors. Its queries parse the fields of each log line as infra/queries/ do.'

@description('Required. Display name of the workbook.')
param displayName string

@description('Required. Azure region.')
param location string

@description('Optional. Tags for the workbook.')
param tags object = {}

@description('Required. Name of the Application Insights component the app writes to.')
param applicationInsightsName string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The fields of a line written by shared/runtime/invocationLogger.ts (the same extract as infra/queries/*.kql).
var withFields = 'traces | extend fields = parse_json(extract(@\'^.* (\\{"logger":"aks-panorama-sync".*\\})$\', 1, message))'

func queryItem(name string, title string, query string, visualization string) object => {
  type: 3
  name: name
  content: {
    version: 'KqlItem/1.0'
    title: title
    query: query
    size: 0
    timeContext: {
      durationMs: 86400000
    }
    queryType: 0
    resourceType: 'microsoft.insights/components'
    visualization: visualization
  }
}

var items = [
  {
    type: 1
    name: 'intro'
    content: {
      json: '## aks-panorama-sync\nLast 24 hours, from the app\'s log lines. `GET /api/status` and `aks-panorama-sync status` show the live state (docs/deploy.md, "Verify the deployment").'
    }
  }
  queryItem(
    'clusters',
    'Clusters: last recompute',
    '${withFields} | where message startswith "recompute done" | extend cluster = tostring(fields.cluster) | summarize arg_max(timestamp, fields) by cluster | project cluster, lastRecompute = timestamp, generation = toint(fields.generation), ips = toint(fields.ips), registered = toint(fields.registered), unregistered = toint(fields.unregistered) | order by cluster asc',
    'table'
  )
  queryItem(
    'targets',
    'Targets: pushes',
    '${withFields} | where message startswith "push done" or message startswith "push failed" | extend target = tostring(fields.target), cluster = tostring(fields.cluster), ok = message startswith "push done" | summarize lastPush = maxif(timestamp, ok), pushes = sumif(itemCount, ok), failed = sumif(itemCount, not(ok)), registered = sum(toint(fields.registered)), unregistered = sum(toint(fields.unregistered)), rejectedEntries = sum(toint(fields.rejectedEntries)) by target, cluster | order by target asc',
    'table'
  )
  queryItem(
    'signals',
    'Alert signals per hour',
    '${withFields} | extend signal = case(message startswith "Message has reached MaxDequeueCount", "poisoned", message startswith "recompute failed", "recompute failed", message startswith "removal guard" or message has "target removal held", "removals held", message has "done with rejected entries", "entries rejected", message startswith "push failed", "push failed", "") | where isnotempty(signal) | summarize count = sum(itemCount) by signal, bin(timestamp, 1h)',
    'timechart'
  )
  queryItem(
    'errors',
    'Recent errors',
    '${withFields} | where severityLevel >= 3 | project timestamp, cluster = tostring(fields.cluster), target = tostring(fields.target), message = tostring(split(message, \' {"logger":\')[0]), function = tostring(customDimensions.Category) | order by timestamp desc | take 100',
    'table'
  )
]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsights.id, 'aks-panorama-sync-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string({
      version: 'Notebook/1.0'
      items: items
      isLocked: false
      fallbackResourceIds: [
        applicationInsights.id
      ]
    })
  }
}

@description('Resource ID of the workbook.')
output resourceId string = workbook.id
