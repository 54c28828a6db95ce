/** Manifests as a user writes them for `kubectl apply -f`, shared by the kubectl tests and the interop tests with a real kubectl. */

/**
 * `web`: a Deployment (`app: web`, one container with a port named http, 8080) and the ClusterIP Service
 * in front of it (80 → http). Without `namespace` the objects name none (kubectl's default namespace).
 */
export function webManifest(o: { readonly replicas: number; readonly image?: string; readonly namespace?: string }): string {
  const ns = o.namespace === undefined ? '' : `\n  namespace: ${o.namespace}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web${ns}
  labels:
    app: web
spec:
  replicas: ${o.replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: ${o.image ?? 'nginx:1.27'}
        ports:
        - name: http
          containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web${ns}
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: http
`;
}
