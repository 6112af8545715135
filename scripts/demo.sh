#!/usr/bin/env bash
# The main job, non-interactive: measure a bundled recording, then decide a warranty claim
# through the policy's whole protocol (bultime-bg: DU, DD, CD, CL, CU, 60 s each) with a
# calibrated recorder, and show the uncalibrated single-position case that cannot decide.
#
# Everything goes to target/demo/ (its own store, shop and calibration profiles via
# TICKPROOF_CONFIG_DIR): your own configuration and claims are never touched. The protocol's
# five recordings are made here by `tickproof synth` (seeded, so the same bytes every run, each
# with its truth beside it): a watch gaining about 21 s/day, recorded through a sound card whose
# clock runs 12 ppm fast.
set -euo pipefail
cd "$(dirname "$0")/.."
# TICKPROOF_BIN and DEMO_DIR let tests/demo_script.rs run the demo on the test build, elsewhere.
T=${TICKPROOF_BIN:-./target/release/tickproof}
F=fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav
D=${DEMO_DIR:-target/demo}
rm -rf "$D"
mkdir -p "$D/rec"
export TICKPROOF_CONFIG_DIR="$(cd "$D" && pwd)/config"
S=(--store "$D/store")
id_of() { tr -d '\n' | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p'; }

echo "== tickproof analyze $F"
$T analyze "$F"
echo
echo "== the shop and the recorder's calibration (a lab certificate: +12 ± 0.5 ppm)"
$T shop set --name "Demo Watch Service" --address "1 Main Street\nSofia" --default-policy bultime-bg \
  --technician "demo technician"
$T calibrate manual --ppm 12 --u95 0.5 --note "demo: the sound card's calibration certificate" \
  --save "demo recorder"
echo
echo "== the protocol's recordings (ETA 2824-2, 28800 bph, lift angle 50 degrees)"
i=0
for pos in DU DD CD CL CU; do
  rate=$(echo "21.0 22.0 19.5 20.5 22.5" | cut -d' ' -f$((i + 1)))
  $T synth "$D/rec/$pos.wav" --bph 28800 --rate-s-per-day "$rate" --duration-s 61 --sample-rate-hz 22050 \
    --snr-db 25 --recorder-ppm 12 --lift-angle-deg 50 --seed $((70 + i)) > /dev/null
  echo "$D/rec/$pos.wav: position $pos, true rate $rate s/day"
  i=$((i + 1))
done
echo
echo "== a claim through the whole protocol, measured with the calibrated recorder"
ID=$($T "${S[@]}" claim new --brand Demo --model "automatic 28800 bph" --serial DEMO-1 --movement mechanical \
      --calibre "ETA 2824-2" --complaint "it gains almost half a minute a day" --json | id_of)
echo "opened $ID"
$T "${S[@]}" claim measure "$ID" --device "demo recorder" --positions DU,DD,CD,CL,CU \
  --from "$D"/rec/{DU,DD,CD,CL,CU}.wav
$T "${S[@]}" claim verify "$ID"
$T "${S[@]}" claim show "$ID"
$T "${S[@]}" claim export "$ID" --out "$D/export-$ID"
echo "report: $D/export-$ID/report.html"
echo
echo "== for contrast: one position of another watch, recorder uncalibrated"
ID2=$($T "${S[@]}" claim new --brand Demo --model "synthetic 21600 bph" --serial DEMO-2 --movement mechanical \
       --lift-angle 52 --json | id_of)
$T "${S[@]}" claim measure "$ID2" --from "$F" --positions DU
$T "${S[@]}" claim show "$ID2"
