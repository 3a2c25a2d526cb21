#!/usr/bin/env bash
# Makes demo/public/fonts/sidian-demo-cjk.ttf, the CJK font of the demo portal and of the licences
# it generates: Droid Sans Fallback (Apache-2.0, Debian package fonts-droid-fallback) cut down to
# ASCII, the 7,445 characters of GB 2312 and the full-width forms, so that `npm ci && npm start`
# works on a machine without CJK fonts. The generated licence PDFs embed a further subset of only
# the glyphs they use. Needs pyftsubset (Debian package fonttools); run by hand, output committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=${1:-/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf}
out=demo/public/fonts/sidian-demo-cjk.ttf
chars=$(mktemp)
python3 - "$chars" <<'PY'
import sys
cs = set(chr(c) for c in range(0x20, 0x7f))
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            cs.add(bytes([hi, lo]).decode('gb2312'))
        except UnicodeDecodeError:
            pass
cs.update(chr(c) for c in range(0xFF01, 0xFF5F))  # full-width forms
cs.update('\u3000\u00b7\u2014\u2026\u201c\u201d\u2018\u2019')
open(sys.argv[1], 'w', encoding='utf-8').write(''.join(sorted(cs)))
PY
pyftsubset "$src" --text-file="$chars" --output-file="$out" --no-hinting --layout-features='' \
  --name-IDs='*' --name-languages='*' --drop-tables+=DSIG
rm -f "$chars"
ls -l "$out"
