#!/usr/bin/env bash
# Seed corpora from examples/ (and the claims file) for every target: corpus/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
ex=../examples
mk() { mkdir -p "corpus/$1"; }
for t in spec_parser claim_parser safetensors npz npy json_weights csv import; do mk "$t"; done
find "$ex" -name '*.fnn' -exec cp {} corpus/spec_parser/ \;
i=0; while IFS= read -r line; do
  case "$line" in ''|'#'*|'//'*) continue;; esac
  i=$((i+1)); printf '%s' "$line" > "corpus/claim_parser/c$i"
done < "$ex/claims/born.claims"
find "$ex" -name '*.safetensors' -size -64k -exec cp {} corpus/safetensors/ \;
find "$ex" -name '*.json' -exec cp {} corpus/json_weights/ \;
printf 'x1,x2\n0.1,0.2\n-1e-3 4\n' > corpus/csv/a.csv
python3 - <<'PY' || true
import numpy as np, io, zipfile
np.save('corpus/npy/a.npy', np.arange(6, dtype='float64').reshape(3, 2))
np.savez('corpus/npz/w.npz', **{'0.weight': np.ones((3, 2)), '0.bias': np.zeros(3), '2.weight': np.ones((1, 3)), '2.bias': np.zeros(1)})
PY
for f in corpus/safetensors/*; do [ -e "$f" ] && { printf '\x00'; cat "$f"; } > "corpus/import/$(basename "$f")"; done
for f in corpus/json_weights/*; do [ -e "$f" ] && { printf '\x02'; cat "$f"; } > "corpus/import/$(basename "$f")"; done
for f in corpus/npz/*; do [ -e "$f" ] && { printf '\x01'; cat "$f"; } > "corpus/import/$(basename "$f")"; done
echo "seeded: $(for t in corpus/*; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
