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
RBAC rules of the manager: least privilege for what certinel does today.
Used by the ClusterRole, or by the Role in each watched namespace.
Keep in sync with config/rbac/role.yaml.
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
# certinel: inject CA bundles into webhook configurations, CRD conversion
# webhooks and APIServices: watch them (the cache keeps only their bundle
# fields) and apply caBundle. Not used with --namespaces.
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["apiregistration.k8s.io"]
  resources: ["apiservices"]
  verbs: ["get", "list", "watch", "patch"]
# certinel: fill spec.tls of OpenShift Routes annotated with
# certinel.io/certs-from-secret or destination-ca-from-secret: watch them
# (the cache keeps no certificate or key of other Routes) and apply the
# fields certinel manages.
- apiGroups: ["route.openshift.io"]
  resources: ["routes"]
  verbs: ["get", "list", "watch", "patch"]
# certinel: OpenShift lets only those allowed to create or update
# routes/custom-host set a Route's certificate, key and CA fields.
- apiGroups: ["route.openshift.io"]
  resources: ["routes/custom-host"]
  verbs: ["create", "update"]
# certinel: Ingresses annotated with certinel.io/certs-from-secret get a
# spec.tls entry (merge patch); a mirror of a Secret of another namespace
# that allows it is created, updated and deleted with the Secret rules above.
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch", "patch"]
# certinel: reload (certinel.io/reload*): watch workloads (the cache keeps
# no pod template of those without a certinel annotation) and patch the
# config-hash annotations of their metadata and pod template.
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "list", "watch", "patch"]
# certinel: Normal/Warning Events on annotated Secrets (KeystoresUpdated,
# bad input); the manager's recorder writes events.k8s.io/v1 Events.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
