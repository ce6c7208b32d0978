#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection at build/sanity/ansible_collections/logswap/netconsole
# (ansible-test needs that path and a git tree). ansible-test bootstraps pip into its per-test venvs with a
# script from ci-files.testing.ansible.com, which is not reachable here; the stand-in below does the same
# with Python's own ensurepip and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
tree=build/sanity/ansible_collections/logswap/netconsole
pip_version=$(python - <<'PY'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -f "$cache" ]; then
    mkdir -p "$(dirname "$cache")"
    cp scripts/get-pip-standin.py "$cache"
fi
rm -rf build/sanity && mkdir -p "$tree"
git ls-files -co --exclude-standard -z | tar --null -T - -c | tar -x -C "$tree"
cd "$tree"
git init -q && git add -A
exec ansible-test sanity --local --python 3.11 --color no "$@"
