"""podsec: Pod Security Standards for Kubernetes YAML. The wheel carries the `podsec` binary."""
