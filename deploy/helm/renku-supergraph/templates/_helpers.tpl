{{/* The Node services, in the order the gateway composes them; gateway first. */}}
{{- define "renku-supergraph.components" -}}
gateway identity projects lineage sessions gitlab
{{- end }}

{{/* The workspace whose dist/main.js a component runs (see the Dockerfile). */}}
{{- define "renku-supergraph.workspace" -}}
{{- $workspaces := dict "gateway" "supergraph" "identity" "subgraphs/identity" "projects" "subgraphs/projects" "lineage" "subgraphs/lineage" "sessions" "subgraphs/sessions" "gitlab" "mesh" -}}
{{- index $workspaces . -}}
{{- end }}

{{- define "renku-supergraph.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/* Name of one component's objects: <fullname>-<component>. */}}
{{- define "renku-supergraph.name" -}}
{{- printf "%s-%s" (include "renku-supergraph.fullname" .root) .component -}}
{{- end }}

{{- define "renku-supergraph.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "renku-supergraph.selectorLabels" . }}
{{- end }}

{{- define "renku-supergraph.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "renku-supergraph.serviceAccountName" -}}
{{- default (include "renku-supergraph.fullname" .) .Values.serviceAccount.name -}}
{{- end }}

{{- define "renku-supergraph.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end }}

{{/* A subgraph's in-cluster GraphQL URL. */}}
{{- define "renku-supergraph.subgraphUrl" -}}
{{- $c := index .root.Values .component -}}
{{- printf "http://%s:%v/graphql" (include "renku-supergraph.name" .) $c.port -}}
{{- end }}

{{- define "renku-supergraph.issuer" -}}
{{- printf "%s/realms/%s" (trimSuffix "/" .Values.keycloak.publicUrl) .Values.keycloak.realm -}}
{{- end }}

{{/* Plain name/value env entries from a map, sorted so that renders are stable. */}}
{{- define "renku-supergraph.plainEnv" -}}
{{- range $name := keys . | sortAlpha }}
- name: {{ $name }}
  value: {{ index $ $name | toString | quote }}
{{- end }}
{{- end }}

{{/* How every service verifies callers' access tokens (kit readTokenVerifierOptions). */}}
{{- define "renku-supergraph.env.tokens" -}}
- name: KEYCLOAK_ISSUER
  value: {{ include "renku-supergraph.issuer" . | quote }}
- name: KEYCLOAK_JWKS_URL
  value: {{ printf "%s/realms/%s/protocol/openid-connect/certs" (trimSuffix "/" .Values.keycloak.url) .Values.keycloak.realm | quote }}
- name: KEYCLOAK_AUDIENCE
  value: {{ .Values.keycloak.audience | quote }}
- name: KEYCLOAK_CLOCK_TOLERANCE_SEC
  value: {{ .Values.keycloak.clockToleranceSec | quote }}
{{- with .Values.keycloak.allowedClients }}
- name: KEYCLOAK_ALLOWED_CLIENTS
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "renku-supergraph.env.neo4j" -}}
- name: NEO4J_URI
  value: {{ .Values.neo4j.uri | quote }}
- name: NEO4J_USER
  value: {{ .Values.neo4j.user | quote }}
- name: NEO4J_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.neo4j.existingSecret }}
      key: {{ .Values.neo4j.passwordKey }}
{{- end }}

{{- define "renku-supergraph.env.gateway" -}}
{{- $g := .Values.gateway }}
{{- range $name := list "identity" "projects" "lineage" "sessions" "gitlab" }}
- name: {{ printf "SUBGRAPH_%s_URL" (upper $name) }}
  value: {{ include "renku-supergraph.subgraphUrl" (dict "root" $ "component" $name) | quote }}
{{- end }}
- name: SUPERGRAPH_FILE
  value: /etc/renku-supergraph/supergraph.graphql
- name: SUBGRAPH_TIMEOUT_MS
  value: {{ $g.subgraphTimeoutMs | quote }}
- name: KEYCLOAK_URL
  value: {{ .Values.keycloak.url | quote }}
- name: KEYCLOAK_REALM
  value: {{ .Values.keycloak.realm | quote }}
{{ include "renku-supergraph.env.tokens" . }}
- name: GITLAB_TOKEN_SUBGRAPHS
  value: {{ $g.gitlabTokenSubgraphs | quote }}
- name: MAX_QUERY_DEPTH
  value: {{ $g.limits.maxDepth | quote }}
- name: MAX_QUERY_ALIASES
  value: {{ $g.limits.maxAliases | quote }}
- name: MAX_QUERY_COST
  value: {{ $g.limits.maxCost | quote }}
- name: MAX_BODY_SIZE
  value: {{ $g.limits.maxBodySize | quote }}
- name: GATEWAY_WORKERS
  value: {{ $g.workers | quote }}
{{- with $g.nodeOptions }}
- name: NODE_OPTIONS
  value: {{ . | quote }}
{{- end }}
- name: GATEWAY_PUBLIC_URL
  value: {{ $g.publicUrl | quote }}
- name: SUBGRAPH_RETRIES
  value: {{ $g.subgraphRetries | quote }}
- name: RATE_LIMIT_PER_USER
  value: {{ $g.rateLimits.perUser | quote }}
- name: RATE_LIMIT_PER_ADDRESS
  value: {{ $g.rateLimits.perAddress | quote }}
{{- with $g.corsOrigins }}
- name: CORS_ALLOWED_ORIGINS
  value: {{ . | quote }}
{{- end }}
{{- with $g.trustProxy }}
- name: TRUST_PROXY
  value: {{ . | toString | quote }}
{{- end }}
{{- if .Values.metrics.enabled }}
- name: METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: METRICS_HOST
  value: 0.0.0.0
{{- end }}
{{- with $g.graphosSecret }}
- name: APOLLO_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: APOLLO_KEY
- name: APOLLO_GRAPH_REF
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: APOLLO_GRAPH_REF
{{- end }}
{{- if $g.browserSignIn.enabled }}
- name: KEYCLOAK_GATEWAY_CLIENT_ID
  value: {{ $g.browserSignIn.clientId | quote }}
- name: KEYCLOAK_GATEWAY_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $g.browserSignIn.existingSecret }}
      key: {{ $g.browserSignIn.clientSecretKey }}
{{- end }}
{{- if .Values.redis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.urlKey }}
{{- else if .Values.redis.url }}
- name: REDIS_URL
  value: {{ .Values.redis.url | quote }}
{{- end }}
{{- end }}

{{- define "renku-supergraph.env.identity" -}}
- name: KEYCLOAK_URL
  value: {{ .Values.keycloak.url | quote }}
- name: KEYCLOAK_REALM
  value: {{ .Values.keycloak.realm | quote }}
- name: KEYCLOAK_ISSUER
  value: {{ include "renku-supergraph.issuer" . | quote }}
- name: KEYCLOAK_AUDIENCE
  value: {{ .Values.keycloak.audience | quote }}
- name: KEYCLOAK_CLOCK_TOLERANCE_SEC
  value: {{ .Values.keycloak.clockToleranceSec | quote }}
- name: IDENTITY_CLIENT_ID
  value: {{ .Values.identity.clientId | quote }}
- name: IDENTITY_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.identity.existingSecret }}
      key: {{ .Values.identity.clientSecretKey }}
{{- end }}

{{- define "renku-supergraph.env.projects" -}}
{{ include "renku-supergraph.env.neo4j" . }}
- name: NEO4J_DATABASE
  value: {{ .Values.neo4j.database | quote }}
- name: NEO4J_RETRY_TIMEOUT_MS
  value: {{ .Values.projects.neo4jRetryTimeoutMs | quote }}
- name: GITLAB_URL
  value: {{ .Values.gitlab.url | quote }}
- name: GITLAB_TIMEOUT_MS
  value: {{ .Values.projects.gitlabTimeoutMs | quote }}
{{ include "renku-supergraph.env.tokens" . }}
{{- end }}

{{- define "renku-supergraph.env.lineage" -}}
{{ include "renku-supergraph.env.neo4j" . }}
{{ include "renku-supergraph.env.tokens" . }}
- name: LINEAGE_WORKER
  value: {{ .Values.lineage.worker | quote }}
{{- with .Values.lineage.cloneUrlPrefixes }}
- name: LINEAGE_CLONE_URL_PREFIXES
  value: {{ . | quote }}
{{- end }}
{{- with .Values.lineage.membershipSync.existingSecret }}
- name: GITLAB_URL
  value: {{ $.Values.gitlab.url | quote }}
- name: GITLAB_SERVICE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.lineage.membershipSync.tokenKey }}
{{- with $.Values.lineage.membershipSync.systemHookTokenKey }}
- name: GITLAB_SYSTEM_HOOK_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.lineage.membershipSync.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{- define "renku-supergraph.env.sessions" -}}
{{- $hub := .Values.sessions.jupyterhub }}
- name: JUPYTERHUB_API_URL
  value: {{ $hub.apiUrl | quote }}
- name: JUPYTERHUB_URL
  value: {{ $hub.publicUrl | quote }}
- name: JUPYTERHUB_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $hub.existingSecret }}
      key: {{ $hub.tokenKey }}
{{ include "renku-supergraph.env.neo4j" . }}
- name: NEO4J_DATABASE
  value: {{ .Values.neo4j.database | quote }}
{{ include "renku-supergraph.env.tokens" . }}
{{- with .Values.sessions.gitUrl }}
- name: SESSIONS_GIT_URL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.sessions.resourceClasses }}
- name: SESSIONS_RESOURCE_CLASSES_FILE
  value: /etc/renku-supergraph/resource-classes.json
{{- end }}
{{- end }}

{{- define "renku-supergraph.env.gitlab" -}}
- name: GITLAB_URL
  value: {{ .Values.gitlab.url | quote }}
{{- end }}

{{/* HorizontalPodAutoscaler and PodDisruptionBudget of one Deployment, when switched on. */}}
{{- define "renku-supergraph.scaling" -}}
{{- $c := .values }}
{{- if $c.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "renku-supergraph.name" . }}
  labels:
    {{- include "renku-supergraph.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "renku-supergraph.name" . }}
  minReplicas: {{ $c.autoscaling.minReplicas }}
  maxReplicas: {{ $c.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $c.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if $c.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "renku-supergraph.name" . }}
  labels:
    {{- include "renku-supergraph.labels" . | nindent 4 }}
spec:
  minAvailable: {{ $c.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "renku-supergraph.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* Express's size notation (100kb, 1mb; k = 1024) in bytes, for the router's limit. */}}
{{- define "renku-supergraph.bytes" -}}
{{- $size := lower . -}}
{{- if hasSuffix "mb" $size -}}
{{- mul (trimSuffix "mb" $size | atoi) 1048576 -}}
{{- else if hasSuffix "kb" $size -}}
{{- mul (trimSuffix "kb" $size | atoi) 1024 -}}
{{- else -}}
{{- trimSuffix "b" $size | atoi -}}
{{- end -}}
{{- end }}
