metadata name = 'Shared types'
metadata description = 'User-defined types shared by main.bicep and its modules. Imported at compile time; deploys nothing.'

@export()
@description('Authenticate to the Kubernetes API with the app\'s managed identity (Microsoft Entra ID). Needs the cluster roles assigned by clusterRbac.bicep.')
@sealed()
type azureAdAuthType = {
  @description('Required. The authentication type.')
  type: 'azureAd'
}

@export()
@description('Authenticate with a service-account bearer token. The token itself is never in CLUSTERS: it lives in Key Vault and reaches the app as the app setting named by tokenSetting (a Key Vault reference).')
@sealed()
type tokenAuthType = {
  @description('Required. The authentication type.')
  type: 'token'

  @description('Required. Name of the app setting that holds the token, e.g. AKS_PROD_1_TOKEN. The Key Vault secret is the same name in lower case with "_" replaced by "-" (aks-prod-1-token).')
  @minLength(1)
  @maxLength(100)
  tokenSetting: string
}

@export()
@discriminator('type')
@description('How the app authenticates to a cluster\'s Kubernetes API.')
type clusterAuthType = azureAdAuthType | tokenAuthType

@export()
@sealed()
@description('A label selector configured for a cluster: Services it matches get the tag aks_<name>.<cluster>.<service>.')
type labelSelectorType = {
  @description('Required. Selector name used in the tag (letters, digits, "-" or "_").')
  @minLength(1)
  @maxLength(63)
  name: string

  @description('Required. Kubernetes label selector, equality- or set-based, e.g. "app=web,tier in (front)".')
  @minLength(1)
  selector: string
}

@export()
@sealed()
@description('Which label keys become label tags aks.<cluster>.svc.<label>.<value> (globs, e.g. "app.kubernetes.io/*"). See docs/tags.md.')
type labelTagsType = {
  @description('Optional. Only these label keys become tags.')
  include: string[]?

  @description('Optional. These label keys never become tags (e.g. helm.sh/chart).')
  exclude: string[]?
}

@export()
@sealed()
@description('One monitored AKS cluster. Serialised unchanged into the CLUSTERS app setting (shared/config/loadConfig.ts validates it at start-up).')
type clusterType = {
  @description('Required. The AKS cluster name, used in every tag. Unique across monitored clusters.')
  @minLength(1)
  @maxLength(63)
  name: string

  @description('Conditional. Subscription of the cluster. Required with resourceGroup for Event Grid matching, for fetching credentials through ARM and for the role assignments on the cluster.')
  subscriptionId: string?

  @description('Conditional. Resource group of the cluster. See subscriptionId.')
  resourceGroup: string?

  @description('Optional. Node resource group (MC_...), where the cluster\'s internal load balancer lives.')
  nodeResourceGroup: string?

  @description('Optional. Kubernetes API server URL. Required for auth type "token"; otherwise read through ARM.')
  server: string?

  @description('Optional. Base64 of the API server\'s CA certificate (PEM), with server.')
  caData: string?

  @description('Optional. How to authenticate to the Kubernetes API. Default: azureAd.')
  auth: clusterAuthType?

  @description('Optional. Label selectors that add aks_<name>.<cluster>.<service> tags.')
  labelSelectors: labelSelectorType[]?

  @description('Optional. Panorama notify device groups whose firewalls receive the tags. Empty: register on Panorama itself.')
  deviceGroups: string[]?

  @description('Optional. Which label keys become label tags. Default: every label.')
  labelTags: labelTagsType?

  @description('Optional. Also tag each IP aks.<cluster>.ns.<namespace>. Default: false.')
  namespaceTags: bool?

  @description('Optional. The most tags one IP of this cluster gets (PAN-OS allows 32 per IP). Default: MAX_TAGS_PER_IP.')
  @minValue(1)
  @maxValue(32)
  maxTagsPerIp: int?
}

@export()
@description('The Key Vault secret that backs the app setting named tokenSetting: lower case, "_" replaced by "-" (AKS_PROD_1_TOKEN -> aks-prod-1-token).')
func tokenSecretName(tokenSetting string) string => toLower(replace(tokenSetting, '_', '-'))
