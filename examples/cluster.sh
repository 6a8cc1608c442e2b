#!/usr/bin/env bash
# cluster.sh: a kreek cluster on this machine, kzk-lite and three brokers.
#   cluster.sh up       start whatever is not running (pid files and logs in the folder)
#   cluster.sh status   each process, then the brokers as describe_cluster tells them
#   cluster.sh down     SIGTERM the brokers, then kzk-lite, and wait for them to exit
#   cluster.sh          self-check: up on free ports in a temp folder, a topic, keyed
#                       records in through one broker and out through another, status, down
# Env: KREEK_CLUSTER_DIR (default ./kreek-cluster), KREEK_KZK_PORT (2181),
# KREEK_BROKER_PORTS ("9092 9093 9094", one per broker; 0 = a free port, told in status).
set -euo pipefail

dir=${KREEK_CLUSTER_DIR:-./kreek-cluster}
kzk_port=${KREEK_KZK_PORT:-2181}
read -r -a broker_ports <<<"${KREEK_BROKER_PORTS:-9092 9093 9094}"

say() { echo "cluster.sh: $*" >&2; }
# running NAME: the pid in NAME.pid is alive (prints it).
running() {
  local pid
  pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}
# addr NAME: the address NAME said it listens on (port 0 becomes the real one).
addr() { cat "$dir/$1.addr" 2>/dev/null; }

# launch NAME PROGRAM ARGS...: starts it in the background, logging to NAME.log,
# and waits up to 20 s for its "listening on" line (a broker prints it once it
# has joined the cluster); fails, showing the log's tail, if it exits first.
launch() {
  local name=$1 log="$dir/$1.log" from pid i line=""
  shift
  touch "$log"
  from=$(($(wc -l <"$log") + 1))
  "$@" </dev/null >>"$log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/$name.pid"
  for ((i = 0; i < 2000; i++)); do
    line=$(tail -n +"$from" "$log" | grep -Eo 'info listening on [^ ]+' | tail -n 1) || true
    [ -n "$line" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if [ -z "$line" ]; then
    say "$name did not start; the end of $log:"
    tail -n 5 "$log" >&2
    return 1
  fi
  echo "${line##* }" >"$dir/$name.addr"
  say "$name listening on ${line##* } (pid $pid)"
}

up() {
  mkdir -p "$dir"
  if running kzk-lite >/dev/null; then
    say "kzk-lite already running (pid $(running kzk-lite))"
  else
    launch kzk-lite kzk-lite --listen "127.0.0.1:$kzk_port" --data-dir "$dir/kzk-lite"
  fi
  local n
  for n in "${!broker_ports[@]}"; do
    local name=broker-$((n + 1))
    if running "$name" >/dev/null; then
      say "$name already running (pid $(running "$name"))"
      continue
    fi
    launch "$name" kbroker --listen "127.0.0.1:${broker_ports[$n]}" --data-dir "$dir/$name" \
      --coordinator "$(addr kzk-lite)" --node-id $((n + 1))
  done
  echo "export KREEK_BROKERS=$(brokers)"
}

# brokers: every broker's address, comma-separated, for -b or KREEK_BROKERS.
brokers() {
  local n list=()
  for n in "${!broker_ports[@]}"; do list+=("$(addr "broker-$((n + 1))")"); done
  (IFS=,; echo "${list[*]}")
}

status() {
  local name pid a answer=""
  for name in kzk-lite $(for n in "${!broker_ports[@]}"; do echo "broker-$((n + 1))"; done); do
    if pid=$(running "$name"); then
      printf '%-9s %-22s running (pid %s)\n' "$name" "$(addr "$name")" "$pid"
      if [ "$name" != kzk-lite ] && [ -z "$answer" ]; then
        a=$(addr "$name")
        answer=$(echo '{"op":"describe_cluster","id":1}' | timeout 5 nc -N "${a%:*}" "${a##*:}" || true)
      fi
    else
      printf '%-9s %-22s stopped\n' "$name" "$(addr "$name")"
    fi
  done
  if [ -z "$answer" ]; then
    say "no broker answered describe_cluster"
    return 1
  fi
  echo
  jq -r '"cluster \(.cluster_id), as node \(.node) sees it",
         "NODE  ADDRESS                STATE     LEADS",
         (.brokers[] | "\(.node)     \(.addr)\(" " * (23 - (.addr | length)))\(.state)\(" " * (10 - (.state | length)))\(.leader_of)"),
         (if (.leaderless_partitions // 0) > 0 then "partitions without a leader: \(.leaderless_partitions)" else empty end)' \
    <<<"$answer"
}

# stop NAME: SIGTERM, then wait up to 30 s for it to exit.
stop() {
  local pid i
  if ! pid=$(running "$1"); then
    # Gone already (perhaps from the SIGTERM down sent to every broker at once).
    [ -f "$dir/$1.pid" ] && say "$1 stopped"
    rm -f "$dir/$1.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 3000; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/$1.pid"; say "$1 stopped"; return 0; }
    sleep 0.01
  done
  say "$1 (pid $pid) did not stop within 30 s"
  return 1
}

down() {
  local n pid rc=0
  # Brokers first, while kzk-lite can still hear that they are leaving.
  for n in "${!broker_ports[@]}"; do
    if pid=$(running "broker-$((n + 1))"); then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for n in "${!broker_ports[@]}"; do stop "broker-$((n + 1))" || rc=1; done
  stop kzk-lite || rc=1
  return $rc
}

self_check() {
  dir=$(mktemp -d)
  kzk_port=0
  broker_ports=(0 0 0)
  trap 'down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  up >/dev/null
  local b1 b2 topic=example-cluster
  b1=$(addr broker-1)
  b2=$(addr broker-2)
  ktopic -b "$b1" create "$topic" -p 6
  seq 1 3000 | sed 's/.*/user-&:event-&/' | kproduce -b "$b1" -t "$topic" -K :
  kconsume -b "$b2" -t "$topic" --format '%p %k\n' >"$dir/out"
  [ "$(wc -l <"$dir/out")" -eq 3000 ] || { say "expected 3000 records back"; exit 1; }
  [ "$(cut -d' ' -f1 "$dir/out" | sort -u | wc -l)" -eq 6 ] || { say "expected all six partitions"; exit 1; }
  status | tee "$dir/status"
  [ "$(grep -c ' live ' "$dir/status")" -eq 3 ] || { say "expected 3 live brokers"; exit 1; }
  down
  for name in kzk-lite broker-1 broker-2 broker-3; do
    ! running "$name" >/dev/null || { say "$name still running after down"; exit 1; }
  done
  echo "cluster: 3 brokers up, 3000 keyed records over 6 partitions in through one and out through another, down"
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  down) down ;;
  "") self_check ;;
  *)
    echo "usage: cluster.sh [up|status|down]" >&2
    exit 64
    ;;
esac
