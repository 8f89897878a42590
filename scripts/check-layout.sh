#!/usr/bin/env bash
# Checks that every source file includes headers only of its own folder and
# of the folders its library may use (DEPS in CMakeLists.txt, followed
# through their own DEPS). The table comes from the build directory:
#
#   scripts/check-layout.sh build/layout.txt [SOURCE_DIR]
#
# layout.txt has a line per library folder, "folder: dep dep ...". Exits 1
# with a "file:line: ..." message per include that crosses the layering.
set -euo pipefail
layout=${1:?usage: scripts/check-layout.sh LAYOUT_FILE [SOURCE_DIR]}
src=${2:-$(dirname "$0")/..}
cd "$src"
python3 - "$layout" <<'PY'
import os, re, sys

deps = {}
for line in open(sys.argv[1]):
    if ':' not in line:
        continue
    folder, rest = line.split(':', 1)
    deps[folder.strip()] = rest.split()

def closure(folder, seen=None):
    seen = set() if seen is None else seen
    for d in deps.get(folder, []):
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen

include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
errors = 0
for folder in sorted(deps):
    allowed = closure(folder) | {folder}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(('.h', '.cc')):
            continue
        path = os.path.join(folder, name)
        for n, text in enumerate(open(path, encoding='utf-8'), 1):
            m = include.match(text)
            if not m:
                continue
            owner = os.path.dirname(m.group(1))
            if owner not in deps or owner in allowed:
                continue
            print(f'{path}:{n}: includes {m.group(1)}, but {folder} may use only '
                  f'{" ".join(sorted(allowed - {folder})) or "nothing"} '
                  f'(DEPS in CMakeLists.txt)')
            errors += 1
if errors:
    sys.exit(1)
print(f'layout: {len(deps)} folders, every include within its layer')
PY
