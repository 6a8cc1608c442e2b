#!/usr/bin/env bash
# bench/tls_throughput.sh: what TLS costs. One standalone broker in plain TCP
# and one with --tls-cert, each fed the same records by kproduce and drained
# by kconsume (fetches under TLS are pread + encrypt instead of sendfile);
# prints records/s and MB/s for each and the TLS/plain ratio.
# Env: KREEK_BIN (build dir), BENCH_RECORDS (default 1000000), 100-byte records.
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/common.sh
source "$HERE/../tests/lib/common.sh"
N=${BENCH_RECORDS:-1000000}
T=$TEST_TMP
command -v openssl >/dev/null || { echo "tls_throughput: openssl is not installed" >&2; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
  -days 1 -subj "/CN=bench ca" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/b.key" -out "$T/b.csr" \
  -subj "/CN=bench broker" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san"
openssl x509 -req -in "$T/b.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
  -extfile "$T/san" -out "$T/b.pem" 2>/dev/null
chmod 600 "$T/b.key"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%09d-%090d\n", i, i }' >"$T/recs"
bytes=$(stat -c %s "$T/recs")

rate() {  # rate SECONDS -> "records/s MB/s"
  awk -v s="$1" -v n="$N" -v b="$bytes" 'BEGIN { printf "%.0f %.1f", n / s, b / s / 1e6 }'
}
run() {  # run NAME [kbroker flags...] -- [client flags...]
  local name=$1
  shift
  local -a bflags=() cflags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do bflags+=("$1"); shift; done
  shift
  cflags=("$@")
  start_broker "$name" "${bflags[@]}" || return 1
  local addr_var="${name}_ADDR" t0 p c
  timeout 60 ktopic create bench -p 1 -b "${!addr_var}" "${cflags[@]}" >/dev/null || return 1
  t0=$EPOCHREALTIME
  timeout 600 kproduce -t bench -b "${!addr_var}" "${cflags[@]}" "$T/recs" || return 1
  p=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
  t0=$EPOCHREALTIME
  timeout 600 kconsume -t bench -b "${!addr_var}" "${cflags[@]}" >"$T/$name.out" || return 1
  c=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
  cmp -s "$T/recs" "$T/$name.out" || { echo "tls_throughput: $name read back different records" >&2; return 1; }
  stop_broker "$name"
  echo "$(rate "$p") $(rate "$c")"
}
plain=$(run plain --) || exit 1
tls=$(run tls --tls-cert "$T/b.pem" --tls-key "$T/b.key" -- --tls-ca "$T/ca.pem") || exit 1
read -r pp pm cp cm <<<"$plain"
read -r tp tm tc tcm <<<"$tls"
printf '%-28s %14s %10s\n' "$N records of 100 bytes" "records/s" "MB/s"
printf '%-28s %14s %10s\n' "produce, plain" "$pp" "$pm" "produce, tls" "$tp" "$tm" \
  "consume, plain" "$cp" "$cm" "consume, tls" "$tc" "$tcm"
awk -v a="$tp" -v b="$pp" -v c="$tc" -v d="$cp" \
  'BEGIN { printf "tls/plain: produce %.2f, consume %.2f\n", a / b, c / d }'
