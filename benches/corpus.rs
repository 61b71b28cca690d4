//! Generated manifests for the benchmarks: realistic Deployments of about 100 lines each, with comments,
//! non-ASCII text, flow and block style, and a few violations.
#![allow(dead_code)]

/// One Deployment of exactly 100 lines.
#[allow(dead_code)]
pub fn deployment(index: usize) -> String {
    let mut doc = format!(
        "# Deployment {index}: généré pour les mesures — 計測用\n\
         apiVersion: apps/v1\n\
         kind: Deployment\n\
         metadata:\n  name: app-{index}\n  namespace: team-{team}\n  labels:\n    app: app-{index}\n    tier: backend\n\
         spec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: app-{index}\n  template:\n    metadata:\n      labels:\n        app: app-{index}\n      annotations:\n        prometheus.io/scrape: \"true\"\n\
         \x20   spec:\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n      containers:\n",
        team = index % 7
    );
    for c in 0..3 {
        doc.push_str(&format!(
            "      - name: c{c}\n        image: registry.example/app:{index}.{c}\n        args: [\"--port=80{c}0\", \"--verbose\"]\n        ports:\n        - containerPort: 80{c}0\n          name: http\n        env:\n        - name: MODE\n          value: production\n        - name: GREETING\n          value: \"héllo wörld\"\n        resources:\n          limits: {{cpu: 500m, memory: 256Mi}}\n          requests: {{cpu: 100m, memory: 128Mi}}\n        securityContext:\n          allowPrivilegeEscalation: {ape}\n          capabilities:\n            drop: [ALL]\n        livenessProbe:\n          httpGet: {{path: /healthz, port: 80{c}0}}\n          periodSeconds: 10\n",
            ape = if c == 2 && index % 2 == 0 { "true" } else { "false" }
        ));
    }
    doc.push_str("      volumes:\n      - name: cache\n        emptyDir: {}\n      - name: config\n        configMap:\n          name: app-config\n      - name: data  # 🚀\n        persistentVolumeClaim: {claimName: data}\n      terminationGracePeriodSeconds: 30\n      restartPolicy: Always\n---\n");
    doc
}

/// `documents` Deployments in one stream (about 100 lines each).
#[allow(dead_code)]
pub fn manifest(documents: usize) -> String {
    (0..documents).map(deployment).collect()
}

/// `examples/insecure-deployment.yaml` (11 findings each, in a namespace of its own) repeated in one
/// stream of at least `bytes`: the output's worst realistic case, many findings per object.
#[allow(dead_code)]
pub fn insecure_stream(bytes: usize) -> String {
    let deployment = include_str!("../examples/insecure-deployment.yaml");
    let mut stream = String::with_capacity(bytes + deployment.len() * 2);
    let mut index = 0;
    while stream.len() < bytes {
        if index > 0 {
            stream.push_str("---\n");
        }
        stream.push_str(&deployment.replace("name: web", &format!("name: web-{index}")));
        index += 1;
    }
    stream
}
