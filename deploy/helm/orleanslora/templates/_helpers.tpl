{{- define "olora.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "olora.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "olora.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels Orleans' Kubernetes hosting reads to find the silos of one cluster. */}}
{{- define "olora.orleansLabels" -}}
orleans/serviceId: {{ .Values.cluster.serviceId }}
orleans/clusterId: {{ .Values.cluster.clusterId }}
{{- end -}}

{{- define "olora.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "olora.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "olora.image" -}}
{{- $repo := .image.repository | default .root.Values.image.repository -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{ printf "%s:%s" $repo $tag }}
{{- end -}}

{{- define "olora.modelClaim" -}}
{{- default (printf "%s-model" (include "olora.fullname" .)) .Values.model.existingClaim -}}
{{- end -}}

{{- define "olora.adaptersClaim" -}}
{{- default (printf "%s-adapters" (include "olora.fullname" .)) .Values.adapters.existingClaim -}}
{{- end -}}

{{/* The environment every silo shares: cluster, Redis, pod identity (for Kubernetes hosting), model, adapters, drain. */}}
{{- define "olora.siloEnv" -}}
- name: POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: POD_NAMESPACE
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
- name: POD_IP
  valueFrom: {fieldRef: {fieldPath: status.podIP}}
- name: ORLEANS_SERVICE_ID
  value: {{ .Values.cluster.serviceId | quote }}
- name: ORLEANS_CLUSTER_ID
  value: {{ .Values.cluster.clusterId | quote }}
- name: OrleansLora__Server__Clustering
  value: Redis
- name: OrleansLora__Server__ServiceId
  value: {{ .Values.cluster.serviceId | quote }}
- name: OrleansLora__Server__ClusterId
  value: {{ .Values.cluster.clusterId | quote }}
- name: OrleansLora__Server__AdvertisedAddress
  value: $(POD_IP)
- name: OrleansLora__Server__SiloPort
  value: {{ .Values.cluster.siloPort | quote }}
- name: OrleansLora__Server__GatewayPort
  value: {{ .Values.cluster.gatewayPort | quote }}
- name: OrleansLora__Server__RedisConnectionString
{{- if .Values.redis.enabled }}
  value: {{ printf "%s-redis:6379,abortConnect=false" (include "olora.fullname" .) | quote }}
{{- else if .Values.redis.external.existingSecret }}
  valueFrom: {secretKeyRef: {name: {{ .Values.redis.external.existingSecret }}, key: connection-string}}
{{- else }}
  value: {{ required "redis.external.connectionString or redis.external.existingSecret is required when redis.enabled is false" .Values.redis.external.connectionString | quote }}
{{- end }}
- name: OrleansLora__Engine__ModelPath
  value: {{ printf "/models/%s" .Values.model.name | quote }}
- name: OrleansLora__AdapterStore__Root
  value: /adapters
- name: OrleansLora__Server__DataDirectory
  value: /data
- name: OrleansLora__Drain__GracePeriod
  {{- $s := int .Values.drainGraceSeconds }}
  value: {{ printf "%02d:%02d:%02d" (div $s 3600) (mod (div $s 60) 60) (mod $s 60) | quote }}
- name: ASPNETCORE_URLS
  value: {{ printf "http://0.0.0.0:%d" (int .Values.httpPort) | quote }}
{{- end -}}

{{- define "olora.probes" -}}
startupProbe:
  httpGet: {path: /live, port: http}
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /live, port: http}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /ready, port: http}
  periodSeconds: 5
  failureThreshold: 2
{{- end -}}

{{- define "olora.ports" -}}
- name: http
  containerPort: {{ .Values.httpPort }}
- name: silo
  containerPort: {{ .Values.cluster.siloPort }}
- name: orleans-gateway
  containerPort: {{ .Values.cluster.gatewayPort }}
{{- end -}}

{{- define "olora.volumes" -}}
- name: model
  persistentVolumeClaim: {claimName: {{ include "olora.modelClaim" . }}, readOnly: true}
- name: adapters
  persistentVolumeClaim: {claimName: {{ include "olora.adaptersClaim" . }}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "olora.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: {drop: [ALL]}
{{- end -}}
