"""`python -m podsec`: runs the podsec binary that this wheel installed into the scripts directory."""

import os
import sys
import sysconfig


def find_podsec_bin() -> str:
    """The podsec binary installed with this package (ruff's `find_ruff_bin`, reduced)."""
    name = "podsec" + (sysconfig.get_config_var("EXE") or "")
    candidates = [sysconfig.get_path("scripts")]
    # `pip install --user` puts scripts under the user scheme.
    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    elif os.name == "nt":
        user_scheme = "nt_user"
    else:
        user_scheme = "posix_user"
    candidates.append(sysconfig.get_path("scripts", scheme=user_scheme))
    # `pip install --target DIR`: DIR/bin beside DIR/podsec.
    candidates.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin"))
    for directory in candidates:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"podsec: the {name} binary is not installed beside this package (looked in {candidates})")


if __name__ == "__main__":
    podsec = os.fsdecode(find_podsec_bin())
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.call([podsec, *sys.argv[1:]]))
    os.execvp(podsec, [podsec, *sys.argv[1:]])
