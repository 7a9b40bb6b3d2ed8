{{/*
Named templates. The ones a model server's chart may include (with featurewatch as a dependency)
take featurewatch's own template context, `.Subcharts.featurewatch` (Helm >= 3.7), so they see this
chart's values with its defaults:
  featurewatch.sidecar          the container as a native sidecar (initContainers list item)
  featurewatch.container        the same as an ordinary container (containers list item)
  featurewatch.volumes          the volumes the container mounts (volumes list items)
  featurewatch.podAnnotations   the config checksum that restarts pods when the config changes
None of them read .Template or the caller's .Chart.
*/}}

{{- define "featurewatch.name" -}}
{{- default "featurewatch" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name. Not derived from .Chart so that it is the same from a parent chart. */}}
{{- define "featurewatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "featurewatch" .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "featurewatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "featurewatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "featurewatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "featurewatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: feature-monitor
app.kubernetes.io/part-of: featurewatch
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "featurewatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "featurewatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the passwords come from: the existing one, or the one this chart creates. */}}
{{- define "featurewatch.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if or .Values.secrets.clickhousePassword .Values.secrets.kafkaSaslPassword }}
{{- include "featurewatch.fullname" . }}
{{- end }}
{{- end }}

{{/* The rendered config.yaml; the ConfigMap and its checksum both use this. */}}
{{- define "featurewatch.configYaml" -}}
{{- toYaml .Values.config }}
{{- end }}

{{/* Fails the render with the value's name when settings contradict each other. */}}
{{- define "featurewatch.validate" -}}
{{- $grace := int (default 25 .Values.config.shutdownGraceSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) $grace }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above config.shutdownGraceSeconds (%d): featurewatch drains within the latter and needs time to exit" (int .Values.terminationGracePeriodSeconds) $grace) }}
{{- end }}
{{- $ch := default dict .Values.config.clickhouse }}
{{- if and .Values.deployment.enabled (not $ch.url) (gt (int .Values.replicaCount) 1) }}
{{- fail "config.clickhouse.url is empty (embedded engine, one store per pod): set replicaCount: 1, or point config.clickhouse.url at a ClickHouse server" }}
{{- end }}
{{- end }}

{{- define "featurewatch.podAnnotations" -}}
checksum/config: {{ include "featurewatch.configYaml" . | sha256sum }}
{{- end }}

{{- define "featurewatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The container's fields, without the list dash. */}}
{{- define "featurewatch.containerFields" -}}
name: featurewatch
image: {{ include "featurewatch.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
args: ["run", "-c", "/etc/featurewatch/config.yaml"]
ports:
  - name: metrics
    containerPort: {{ dig "http" "port" 9464 .Values.config }}
    protocol: TCP
env:
  - name: FW_INSTANCE_ID
    valueFrom:
      fieldRef:
        fieldPath: metadata.name
  {{- $secret := include "featurewatch.secretName" . }}
  {{- if $secret }}
  {{- if or .Values.existingSecret .Values.secrets.clickhousePassword }}
  - name: FW_CLICKHOUSE__PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ .Values.secretKeys.clickhousePassword }}
        optional: true
  {{- end }}
  {{- /* Only with SASL configured: a password alone would be an incomplete kafka.sasl. */}}
  {{- if and (dig "kafka" "sasl" "" .Values.config) (or .Values.existingSecret .Values.secrets.kafkaSaslPassword) }}
  - name: FW_KAFKA__SASL__PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ .Values.secretKeys.kafkaSaslPassword }}
        optional: true
  {{- end }}
  {{- end }}
  {{- with .Values.nodeOptions }}
  - name: NODE_OPTIONS
    value: {{ . | quote }}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .Values.startupProbe }}
startupProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.livenessProbe }}
livenessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.readinessProbe }}
readinessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
resources:
  {{- toYaml .Values.resources | nindent 2 }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: featurewatch-config
    mountPath: /etc/featurewatch
    readOnly: true
  - name: featurewatch-data
    mountPath: /var/lib/featurewatch
  - name: featurewatch-tmp
    mountPath: /tmp
  {{- with .Values.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{- define "featurewatch.container" -}}
- {{ include "featurewatch.containerFields" . | indent 2 | trim }}
{{- end }}

{{/* A restartable init container (Kubernetes >= 1.29): started before the main containers, held
until its startupProbe passes, stopped after them. */}}
{{- define "featurewatch.sidecar" -}}
- restartPolicy: Always
  {{- include "featurewatch.containerFields" . | nindent 2 }}
{{- end }}

{{- define "featurewatch.volumes" -}}
- name: featurewatch-config
  configMap:
    name: {{ include "featurewatch.fullname" . }}
- name: featurewatch-data
  {{- if .Values.dataVolume.sizeLimit }}
  emptyDir:
    sizeLimit: {{ .Values.dataVolume.sizeLimit }}
  {{- else }}
  emptyDir: {}
  {{- end }}
- name: featurewatch-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
