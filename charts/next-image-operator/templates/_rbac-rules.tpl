{{- /* generated — do not edit. */}}
{{- /* Source: operator/rbac.ts via scripts/packaging/chart-rbac.ts. */}}
{{- /* Regenerate with: npm run generate:packaging */}}
{{- define "next-image-operator.rbac.managerRules" -}}
- apiGroups:
    - nextimage.dev
  resources:
    - imageoptimizers
  verbs:
    - get
    - list
    - watch
- apiGroups:
    - nextimage.dev
  resources:
    - imageoptimizers/status
  verbs:
    - get
    - patch
    - update
- apiGroups:
    - nextimage.dev
  resources:
    - imageoptimizers/finalizers
  verbs:
    - update
- apiGroups:
    - ""
  resources:
    - secrets
    - configmaps
    - services
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - apps
  resources:
    - deployments
    - statefulsets
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - autoscaling
  resources:
    - horizontalpodautoscalers
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - policy
  resources:
    - poddisruptionbudgets
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - networking.k8s.io
  resources:
    - networkpolicies
    - ingresses
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - gateway.networking.k8s.io
  resources:
    - httproutes
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - monitoring.coreos.com
  resources:
    - podmonitors
    - prometheusrules
  verbs:
    - get
    - list
    - watch
    - create
    - patch
    - delete
- apiGroups:
    - ""
  resources:
    - events
  verbs:
    - create
    - patch
{{- end -}}

{{- define "next-image-operator.rbac.leaderElectionRules" -}}
- apiGroups:
    - coordination.k8s.io
  resources:
    - leases
  verbs:
    - get
    - create
    - update
- apiGroups:
    - ""
  resources:
    - events
  verbs:
    - create
    - patch
{{- end -}}

{{- define "next-image-operator.rbac.metricsAuthRules" -}}
- apiGroups:
    - authentication.k8s.io
  resources:
    - tokenreviews
  verbs:
    - create
- apiGroups:
    - authorization.k8s.io
  resources:
    - subjectaccessreviews
  verbs:
    - create
{{- end -}}

{{- define "next-image-operator.rbac.metricsReaderRules" -}}
- nonResourceURLs:
    - /metrics
  verbs:
    - get
{{- end -}}
