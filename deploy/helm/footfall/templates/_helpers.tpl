{{/* Names and labels. */}}
{{- define "footfall.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "footfall.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The labels that select one part's pods: call with (list $ "collector"). */}}
{{- define "footfall.selector" -}}
app.kubernetes.io/name: {{ (index . 0).Chart.Name }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* "true" when a site lists webhooks: the deliverer and its objects are rendered. */}}
{{- define "footfall.hasWebhooks" -}}
{{- range .Values.config.sites -}}
{{- if .webhooks -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret's keys of the webhook secrets: webhook-secret.SITE.N, one a hook. */}}
{{- define "footfall.webhookSecretKeys" -}}
{{- range $site := .Values.config.sites -}}
{{- range $i, $_ := $site.webhooks -}}
{{ printf "webhook-secret.%s.%d" $site.id $i }}
{{ end -}}
{{- end -}}
{{- end -}}

{{- define "footfall.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "footfall.fullname" .) -}}
{{- end -}}

{{- define "footfall.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Checks on the values that would otherwise fail only once pods run. */}}
{{- define "footfall.validate" -}}
{{- $partitions := int .Values.kafka.eventsPartitions -}}
{{- if gt (int .Values.processors.replicas) $partitions -}}
{{- fail (printf "processors.replicas is %d, more than the %d partitions of footfall.events (kafka.eventsPartitions): a worker beyond them would hold no partition" (int .Values.processors.replicas) $partitions) -}}
{{- end -}}
{{- if gt (int .Values.sink.replicas) $partitions -}}
{{- fail (printf "sink.replicas is %d, more than the %d partitions of the topics the sinks share (kafka.eventsPartitions): a sink beyond them would hold no partition" (int .Values.sink.replicas) $partitions) -}}
{{- end -}}
{{- if not .Values.config.sites -}}
{{- fail "config.sites is empty: name at least one site (without one footfall would accept its public demo key)" -}}
{{- end -}}
{{- range $name := list "sink_token" "hash_key" "clickhouse_url" "kafka_sasl_password" -}}
{{- if hasKey $.Values.config $name -}}
{{- fail (printf "config.%s is a secret: it would be stored in the ConfigMap; use the values under secrets, clickhouse or kafka" $name) -}}
{{- end -}}
{{- end -}}
{{- $ids := list -}}
{{- range .Values.config.sites -}}
{{- $ids = append $ids (toString .id) -}}
{{- end -}}
{{- range $site, $_ := .Values.secrets.writeKeys -}}
{{- if not (has $site $ids) -}}
{{- fail (printf "secrets.writeKeys names %s, which is not a site in config.sites" $site) -}}
{{- end -}}
{{- end -}}
{{- $toml := include "footfall.toml" . -}}
{{- if hasKey (fromToml $toml) "Error" -}}
{{- fail (printf "config cannot be written as footfall.toml: %s" $toml) -}}
{{- end -}}
{{- range $site := .Values.config.sites -}}
{{- if not (regexMatch "^[A-Za-z0-9_.-]{1,64}$" (toString $site.id)) -}}
{{- fail (printf "config.sites: %q is not a site id (1 to 64 letters, digits, '_', '.', '-')" (toString $site.id)) -}}
{{- end -}}
{{- range $name := list "write_key" "hash_secret" -}}
{{- if hasKey $site $name -}}
{{- fail (printf "config.sites %s has a %s: it would be stored in the ConfigMap; put write keys in secrets.writeKeys (hash secrets are derived from the hash key)" $site.id $name) -}}
{{- end -}}
{{- end -}}
{{- range $i, $hook := $site.webhooks -}}
{{- if hasKey $hook "secret" -}}
{{- fail (printf "config.sites %s webhooks[%d] has a secret: it would be stored in the ConfigMap; put it in secrets.webhookSecrets.%s[%d]" $site.id $i $site.id $i) -}}
{{- end -}}
{{- if not $.Values.secrets.existingSecret -}}
{{- $secrets := index $.Values.secrets.webhookSecrets $site.id | default list -}}
{{- $given := "" -}}
{{- if lt $i (len $secrets) -}}{{- $given = index $secrets $i | toString -}}{{- end -}}
{{- if lt (len $given) 16 -}}
{{- fail (printf "secrets.webhookSecrets.%s[%d] is required for the site's webhook %d (16+ characters): its receiver checks the signatures with it" $site.id $i $i) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $site, $given := .Values.secrets.webhookSecrets -}}
{{- $found := dict -}}
{{- range $.Values.config.sites -}}
{{- if eq (toString .id) $site -}}{{- $_ := set $found "hooks" (len (.webhooks | default list)) -}}{{- end -}}
{{- end -}}
{{- if not (hasKey $found "hooks") -}}
{{- fail (printf "secrets.webhookSecrets names %s, which is not a site in config.sites" $site) -}}
{{- end -}}
{{- if ne (len $given) (int $found.hooks) -}}
{{- fail (printf "secrets.webhookSecrets.%s has %d secrets for the site's %d webhooks" $site (len $given) (int $found.hooks)) -}}
{{- end -}}
{{- end -}}
{{- if gt (int .Values.webhooks.replicas) $partitions -}}
{{- fail (printf "webhooks.replicas is %d, more than the %d partitions of the change topics (kafka.eventsPartitions): a deliverer beyond them would hold no partition" (int .Values.webhooks.replicas) $partitions) -}}
{{- end -}}
{{- if .Values.secrets.existingSecret -}}
{{- $given := dict "secrets.hashKey" .Values.secrets.hashKey "secrets.sinkToken" .Values.secrets.sinkToken "secrets.writeKeys" .Values.secrets.writeKeys "secrets.webhookSecrets" .Values.secrets.webhookSecrets "clickhouse.url" .Values.clickhouse.url "kafka.sasl.password" .Values.kafka.sasl.password -}}
{{- range $name, $value := $given -}}
{{- if $value -}}
{{- fail (printf "%s is set, but secrets.existingSecret %s holds it: leave %s empty" $name $.Values.secrets.existingSecret $name) -}}
{{- end -}}
{{- end -}}
{{- else if not .Values.clickhouse.url -}}
{{- fail "clickhouse.url is required: the sink writes to a ClickHouse server (a pod has no disk to share for the embedded engine)" -}}
{{- end -}}
{{- end -}}

{{/* footfall.toml as the ConfigMap holds it: each site's write key and webhook secrets
placeholders that the init container fills from the Secret (files/render_config.py). */}}
{{- define "footfall.toml" -}}
{{- $config := deepCopy .Values.config -}}
{{- $sites := list -}}
{{- range $site := $config.sites -}}
{{- $hooks := list -}}
{{- range $i, $hook := $site.webhooks -}}
{{- $hooks = append $hooks (merge (dict "secret" (printf "@secret:webhook-secret.%s.%d@" $site.id $i)) $hook) -}}
{{- end -}}
{{- if $hooks -}}{{- $_ := set $site "webhooks" $hooks -}}{{- end -}}
{{- $sites = append $sites (merge (dict "write_key" (printf "@secret:write-key.%s@" $site.id)) $site) -}}
{{- end -}}
{{- $_ := set $config "sites" $sites -}}
{{- toToml $config -}}
{{- end -}}

{{/* The environment every footfall process gets: where its files are, Kafka, the keys. */}}
{{- define "footfall.env" -}}
- name: FOOTFALL_CONFIG
  value: /run/footfall/footfall.toml
- name: FOOTFALL_STATE_DIR
  value: /var/lib/footfall
- name: FOOTFALL_KAFKA_BOOTSTRAP
  value: {{ .Values.kafka.bootstrap | quote }}
{{- with .Values.kafka.replication }}
- name: FOOTFALL_KAFKA_REPLICATION
  value: {{ . | quote }}
{{- end }}
- name: FOOTFALL_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- with .Values.kafka.sasl }}
{{- if .mechanism }}
- name: FOOTFALL_KAFKA_SASL_MECHANISM
  value: {{ .mechanism | quote }}
- name: FOOTFALL_KAFKA_SASL_USERNAME
  value: {{ required "kafka.sasl.username is required with kafka.sasl.mechanism" .username | quote }}
- name: FOOTFALL_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if .passwordSecret.name }}
      name: {{ .passwordSecret.name | quote }}
      key: {{ .passwordSecret.key | quote }}
      {{- else }}
      name: {{ include "footfall.secretName" $ }}
      key: kafka-sasl-password
      {{- end }}
{{- end }}
{{- end }}
{{- if .Values.kafka.tls.caSecret.name }}
- name: FOOTFALL_KAFKA_SSL_CAFILE
  value: /etc/footfall/kafka-ca/{{ .Values.kafka.tls.caSecret.key }}
{{- end }}
{{- with .Values.clickhouse.cluster }}
- name: FOOTFALL_CLICKHOUSE_CLUSTER
  value: {{ . | quote }}
{{- end }}
- name: FOOTFALL_HASH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "footfall.secretName" . }}
      key: hash-key
{{- end -}}

{{- define "footfall.clickhouseEnv" -}}
- name: FOOTFALL_CLICKHOUSE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "footfall.secretName" . }}
      key: clickhouse-url
{{- end -}}

{{/* The init container that completes footfall.toml with the write keys. */}}
{{- define "footfall.configInit" -}}
- name: config
  image: {{ include "footfall.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["python", "/etc/footfall/config/render_config.py", "/etc/footfall/config/footfall.toml", "/etc/footfall/write-keys", "/run/footfall/footfall.toml"]
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    requests:
      cpu: 50m
      memory: 64Mi
    limits:
      cpu: 500m
      memory: 128Mi
  volumeMounts:
    - name: config
      mountPath: /etc/footfall/config
      readOnly: true
    - name: write-keys
      mountPath: /etc/footfall/write-keys
      readOnly: true
    - name: run
      mountPath: /run/footfall
{{- end -}}

{{/* With Prometheus scraping, the container that serves a loopback-only /metrics on the
pod's address (files/metrics_relay.py): call with (list $ TARGET_PORT). */}}
{{- define "footfall.metricsRelay" -}}
{{- $ := index . 0 -}}
{{- if $.Values.monitoring.serviceMonitor.enabled }}
- name: metrics
  image: {{ include "footfall.image" $ | quote }}
  imagePullPolicy: {{ $.Values.image.pullPolicy }}
  command: ["python", "/etc/footfall/config/metrics_relay.py", {{ $.Values.monitoring.relay.port | quote }}, {{ index . 1 | quote }}]
  ports:
    - name: metrics
      containerPort: {{ $.Values.monitoring.relay.port }}
      protocol: TCP
  resources:
    {{- toYaml $.Values.monitoring.relay.resources | nindent 4 }}
  securityContext:
    {{- toYaml $.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/footfall/config
      readOnly: true
{{- end }}
{{- end -}}

{{/* The mounts of a footfall process: the completed configuration, its state, /tmp. */}}
{{- define "footfall.mounts" -}}
- name: run
  mountPath: /run/footfall
  readOnly: true
- name: state
  mountPath: /var/lib/footfall
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/footfall/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "footfall.volumes" -}}
- name: config
  configMap:
    name: {{ include "footfall.fullname" . }}
- name: write-keys
  secret:
    secretName: {{ include "footfall.secretName" . }}
    defaultMode: 0400
    items:
      {{- range .Values.config.sites }}
      - key: write-key.{{ .id }}
        path: write-key.{{ .id }}
      {{- end }}
      {{- range splitList "\n" (include "footfall.webhookSecretKeys" . | trim) | compact }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
- name: run
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
- name: state
  emptyDir:
    sizeLimit: 1Gi
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name | quote }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: {{ .Values.kafka.tls.caSecret.key }}
{{- end }}
{{- end -}}

{{/* The pod spec's common part: call with (list $ .Values.collector). */}}
{{- define "footfall.podCommon" -}}
{{- $ := index . 0 -}}
{{- $part := index . 1 -}}
{{- with $.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml $.Values.podSecurityContext | nindent 2 }}
initContainers:
  {{- include "footfall.configInit" $ | nindent 2 }}
volumes:
  {{- include "footfall.volumes" $ | nindent 2 }}
{{- with $part.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $part.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $part.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod annotations that restart the pods when their configuration changes. */}}
{{- define "footfall.podAnnotations" -}}
checksum/config: {{ include "footfall.toml" . | sha256sum }}
{{- end -}}
