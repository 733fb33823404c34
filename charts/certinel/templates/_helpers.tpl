{{/*
Chart name, or nameOverride.
*/}}
{{- define "certinel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the objects: fullnameOverride, the release name when it already
contains the chart name, otherwise <release>-<chart>. Truncated to 63
characters (DNS label limit).
*/}}
{{- define "certinel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "certinel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "certinel.labels" -}}
helm.sh/chart: {{ include "certinel.chart" . }}
{{ include "certinel.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels: stable for the life of a release.
*/}}
{{- define "certinel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "certinel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the ServiceAccount the manager runs as.
*/}}
{{- define "certinel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "certinel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "certinel.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
"true" when leader election is on: replicas > 1 or leaderElection.enabled.
*/}}
{{- define "certinel.leaderElect" -}}
{{- if or (gt (int .Values.replicas) 1) .Values.leaderElection.enabled }}true{{ end }}
{{- end }}

{{/*
Watched namespaces, de-duplicated, in the order given.
*/}}
{{- define "certinel.watchNamespaces" -}}
{{- if kindIs "string" .Values.watchNamespaces }}
{{- fail "watchNamespaces must be a list, e.g. --set watchNamespaces={a,b}" }}
{{- end }}
{{- .Values.watchNamespaces | default list | uniq | join "," }}
{{- end }}

{{/*
RBAC rules of the manager on namespaced kinds: least privilege for what
certinel does. In the ClusterRole, or in the Role of each watched namespace
when watchNamespaces is set. The ClusterRole of config/rbac/role.yaml is
"certinel.rules" followed by "certinel.clusterRules" with routes.enabled
(a test renders the chart and compares).
*/}}
{{- define "certinel.rules" -}}
# certinel: watch annotated TLS Secrets and read the password Secrets and
# truststore-source Secrets they reference (cached, plus a live GET for
# Secrets whose data the cache does not keep).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
# certinel: write keystore.jks/.p12 and truststore.jks/.p12 into the
# annotated Secret with merge patches, and create the Secret named by
# certinel.io/keystores-target (owned by its source Secret).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "patch"]
# certinel: remove a certinel.io/keystores-target Secret that certinel
# created when the annotation asking for it goes away. RBAC cannot name
# those Secrets in advance; the controller deletes only targets owned by
# their source Secret, with a UID and resourceVersion precondition.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["delete"]
# certinel: read ConfigMaps named in certinel.io/truststore-sources
# (configmap:[ns/]name[/key]) and re-run the referring Secrets on change.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
# certinel: inject CA bundles (certinel.io/inject-ca-from) into
# ConfigMaps: server-side apply of the one data key it writes.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["patch"]
{{- if .Values.routes.enabled }}
# certinel: fill spec.tls of OpenShift Routes annotated with
# certinel.io/certs-from-secret or destination-ca-from-secret: watch them
# (the cache keeps no certificate or key of other Routes) and apply the
# fields certinel manages. Only with routes.enabled (--routes).
- apiGroups: ["route.openshift.io"]
  resources: ["routes"]
  verbs: ["list", "watch", "patch"]
# certinel: OpenShift lets only those allowed to create or update
# routes/custom-host set a Route's certificate, key and CA fields.
- apiGroups: ["route.openshift.io"]
  resources: ["routes/custom-host"]
  verbs: ["create", "update"]
{{- end }}
# certinel: Ingresses annotated with certinel.io/certs-from-secret get a
# spec.tls entry (merge patch); a mirror of a Secret of another namespace
# that allows it is created, updated and deleted with the Secret rules above.
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["list", "watch", "patch"]
# certinel: reload (certinel.io/reload*): watch workloads (the cache keeps
# no pod template of those without a certinel annotation) and patch the
# config-hash annotations of their metadata and pod template.
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["list", "watch", "patch"]
# certinel: Normal/Warning Events on annotated Secrets (KeystoresUpdated,
# bad input); the manager's recorder writes events.k8s.io/v1 Events.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
RBAC rules of the manager on cluster-scoped kinds: only in the ClusterRole,
never with watchNamespaces (certinel does not inject into cluster-scoped
objects with --namespaces, and waits for Routes with discovery alone).
*/}}
{{- define "certinel.clusterRules" -}}
# certinel: inject CA bundles into webhook configurations, CRD conversion
# webhooks and APIServices: watch them (the cache keeps only their bundle
# fields) and apply caBundle. The CRD and APIService watches also tell
# certinel when Routes become served. Not used with --namespaces.
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["apiregistration.k8s.io"]
  resources: ["apiservices"]
  verbs: ["list", "watch", "patch"]
{{- end }}

{{/*
The alerting rules of the PrometheusRule. Only the leader exports the
certificate gauges: the expiry alerts aggregate by certificate, so that a
leader change (other pod and instance labels) does not restart their `for:`. config/prometheus/rule.yaml is
this with the default values and fullname "certinel" (a test compares), and
every metric an expression names is one certinel exports (a test checks).
*/}}
{{- define "certinel.alertGroups" -}}
{{- $sel := .Values.prometheusRule.selector | default (printf "job=%q" (printf "%s-metrics" (include "certinel.fullname" .))) }}
{{- $a := .Values.prometheusRule.alerts }}
{{- $extra := .Values.prometheusRule.additionalLabels }}
groups:
  - name: certinel
    rules:
      {{- with $a.certificateExpiringSoon }}{{ if .enabled }}
      - alert: CertinelCertificateExpiringSoon
        expr: |-
          0 < (max by (namespace, secret, key) (certinel_certificate_not_after_timestamp_seconds{ {{- $sel -}} }) - time()) < {{ mul (int .days) 86400 }}
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: A certificate expires within {{ .days }} days.
          description: '{{ "{{" }} $labels.key {{ "}}" }} of Secret {{ "{{" }} $labels.namespace {{ "}}" }}/{{ "{{" }} $labels.secret {{ "}}" }} expires in {{ "{{" }} $value | humanizeDuration {{ "}}" }}.'
      {{- end }}{{ end }}
      {{- with $a.certificateExpired }}{{ if .enabled }}
      - alert: CertinelCertificateExpired
        expr: |-
          max by (namespace, secret, key) (certinel_certificate_not_after_timestamp_seconds{ {{- $sel -}} }) <= time()
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: A certificate has expired.
          description: '{{ "{{" }} $labels.key {{ "}}" }} of Secret {{ "{{" }} $labels.namespace {{ "}}" }}/{{ "{{" }} $labels.secret {{ "}}" }} has expired.'
      {{- end }}{{ end }}
      {{- with $a.certificateReadErrors }}{{ if .enabled }}
      - alert: CertinelCertificateReadErrors
        expr: |-
          sum by (namespace, secret) (increase(certinel_certificate_read_errors_total{ {{- $sel -}} }[15m])) > {{ .threshold }}
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: certinel cannot read certificates it watches.
          description: 'Secret {{ "{{" }} $labels.namespace {{ "}}" }}/{{ "{{" }} $labels.secret {{ "}}" }} holds a key without a readable certificate ({{ "{{" }} $value {{ "}}" }} versions in 15 minutes).'
      {{- end }}{{ end }}
      {{- with $a.writeFailures }}{{ if .enabled }}
      - alert: CertinelWriteFailures
        expr: |-
          sum by (controller, verb) (increase(certinel_write_failures_total{ {{- $sel -}} }[15m])) > {{ .threshold }}
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: The API server refuses certinel's writes.
          description: '{{ "{{" }} $value {{ "}}" }} {{ "{{" }} $labels.verb {{ "}}" }} writes of the {{ "{{" }} $labels.controller {{ "}}" }} controller failed in 15 minutes; see certinel''s log.'
      {{- end }}{{ end }}
      {{- with $a.reconcileErrors }}{{ if .enabled }}
      - alert: CertinelReconcileErrors
        expr: |-
          sum by (controller) (increase(controller_runtime_reconcile_errors_total{ {{- $sel -}} }[15m])) > {{ .threshold }}
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: A certinel controller keeps failing.
          description: 'The {{ "{{" }} $labels.controller {{ "}}" }} controller had {{ "{{" }} $value {{ "}}" }} reconcile errors in 15 minutes; see certinel''s log.'
      {{- end }}{{ end }}
      {{- with $a.rolloutsFailed }}{{ if .enabled }}
      - alert: CertinelRolloutsFailed
        expr: |-
          sum by (kind) (increase(certinel_rollouts_total{ {{- $sel -}} ,result="failed"}[15m])) > {{ .threshold }}
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: certinel cannot roll workloads out.
          description: '{{ "{{" }} $value {{ "}}" }} rollouts of {{ "{{" }} $labels.kind {{ "}}" }}s failed in 15 minutes: they still run with the old certificates.'
      {{- end }}{{ end }}
      {{- with $a.invalidInput }}{{ if .enabled }}
      - alert: CertinelInvalidInput
        expr: |-
          sum by (controller, reason) (increase(certinel_invalid_input_total{ {{- $sel -}} }[1h])) > {{ .threshold }}
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: Annotated objects have bad input.
          description: '{{ "{{" }} $value {{ "}}" }} Warning Events {{ "{{" }} $labels.reason {{ "}}" }} from the {{ "{{" }} $labels.controller {{ "}}" }} controller in the last hour: kubectl get events -A --field-selector reason={{ "{{" }} $labels.reason {{ "}}" }}'
      {{- end }}{{ end }}
      {{- with $a.absent }}{{ if .enabled }}
      - alert: CertinelAbsent
        expr: |-
          absent(certinel_sources_held{ {{- $sel -}} })
        for: {{ .for }}
        labels:
          severity: {{ .severity }}
          {{- with $extra }}{{ toYaml . | nindent 10 }}{{ end }}
        annotations:
          summary: No certinel replica is scraped.
          description: 'Prometheus has no certinel metrics: certinel is down or not scraped, and keystores, CA bundles and Routes are not kept up to date.'
      {{- end }}{{ end }}
{{- end }}
