#!/usr/bin/env bash
# Assembles the real-world corpus of the side-by-side benchmark: the Kubernetes manifests of five projects at
# pinned commits (about 386 YAML files, 8.0 MB, most of it CRDs and a dashboards ConfigMapList), into DIR
# (default: /tmp/podsec-real-corpus), one directory per project. Nothing is committed; the corpus is not part of
# tests/run.sh (it needs github.com).
#   bash benches/real-corpus.sh [DIR]                      # clones each repository (git clone --depth 1 at the commit)
#   PODSEC_MIRRORS=/path bash benches/real-corpus.sh DIR   # or reads local clones, /path/<owner>+<name>[/repo]
# Then: bash benches/peers.sh DIR
set -euo pipefail
out="${1:-/tmp/podsec-real-corpus}"

# project  repository  commit  paths (YAML files under them are taken)
projects=(
  "kube-prometheus prometheus-operator/kube-prometheus 4d719f1dea8853540b3823ab1fbe6be74a9953b3 manifests"
  "argo-cd argoproj/argo-cd 37ee0097cf851bc2dd7665fc081bbce61a7e836e manifests/install.yaml"
  "examples kubernetes/examples 279e8e4fe314f6cb7bc55fa3fbc21bbeaa48c0ea ."
  "microservices-demo GoogleCloudPlatform/microservices-demo 34ffea9175946982c3088ed84994fe6019ad6e92 kubernetes-manifests release"
  "ingress-nginx kubernetes/ingress-nginx dbb11b92ddb77bee9c35e462479129354c84f939 deploy"
)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rm -rf "$out"
mkdir -p "$out"
for line in "${projects[@]}"; do
  read -r name repository commit paths <<<"$line"
  git_dir=""
  for candidate in "${PODSEC_MIRRORS:-}/${repository/\//+}/repo" "${PODSEC_MIRRORS:-}/${repository/\//+}"; do
    if [ -n "${PODSEC_MIRRORS:-}" ] && git --git-dir="$candidate" cat-file -e "$commit^{commit}" 2>/dev/null; then
      git_dir="$candidate"
      break
    fi
  done
  if [ -z "$git_dir" ]; then
    # A shallow fetch of exactly the pinned commit (GitHub serves any reachable commit by its id).
    git init --quiet "$scratch/$name"
    git -C "$scratch/$name" fetch --quiet --depth 1 "https://github.com/$repository.git" "$commit"
    git_dir="$scratch/$name/.git"
  fi
  mkdir -p "$out/$name"
  # shellcheck disable=SC2086 # the paths are words
  git --git-dir="$git_dir" archive "$commit" -- $paths | tar -x -C "$out/$name"
  # Only the YAML files: the peers would read other files differently, and podsec walks *.yaml and *.yml.
  find "$out/$name" -type f ! -name '*.yaml' ! -name '*.yml' -delete
  find "$out/$name" -depth -type d -empty -delete
done
files=$(find "$out" -type f | wc -l)
bytes=$(find "$out" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "corpus: $files files, $bytes bytes in $out"
