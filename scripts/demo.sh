#!/usr/bin/env bash
# The main job on the bundled recording: measure it, then run a warranty claim through the
# whole flow (open, measure, judge, record, verify) into the default store. Non-interactive.
set -euo pipefail
cd "$(dirname "$0")/.."
T=./target/release/tickproof
F=fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav
echo "== tickproof analyze $F"
$T analyze "$F"
echo
echo "== a claim on the same recording (policy bultime-bg: +-15 s/day)"
ID=$($T claim new --brand Demo --model "synthetic 21600 bph" --serial DEMO-1 --movement mechanical \
      --lift-angle 52 --policy bultime-bg --complaint "it loses a minute a day" --technician demo --json \
      | tr -d '\n' | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
echo "opened $ID"
$T claim measure "$ID" --from "$F" --positions DU
$T claim verify "$ID"
$T claim show "$ID"
