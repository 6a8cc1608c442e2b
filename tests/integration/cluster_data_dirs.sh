#!/usr/bin/env bash
# cluster_data_dirs.sh: what a cluster does to brokers' data dirs. Deleting a
# topic removes its directories on every broker, and a broker that was down
# during the delete removes its copy when it comes back. A standalone broker's
# data dir joins a cluster with its topics: they are registered, readable
# through any broker, nothing deleted (a topic whose name the cluster already
# uses is kept on disk, not served). A data dir that joined one cluster
# refuses to join another kzk-lite: exit 78, naming both clusters, files untouched.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

begin_cluster_test sha256sum
# dirs_of TOPIC: how many partition directories of TOPIC the three brokers hold.
dirs_of() { find "$b1_DIR" "$b2_DIR" "$b3_DIR" -maxdepth 1 -type d -name "$1-[0-9]*" | wc -l; }
# tree_hash DIR: every file's name and content, to tell "untouched".
tree_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }

# --- topic deletion --------------------------------------------------------------
timeout 10 ktopic create gone -p 6 -b "$b1_ADDR" >/dev/null
timeout 10 ktopic create gone-later -p 3 -b "$b1_ADDR" >/dev/null
seq 1 600 | sed 's/.*/k&:v&/' | timeout 20 kproduce -b "$b1_ADDR" -t gone -K :
seq 1 300 | sed 's/.*/k&:v&/' | timeout 20 kproduce -b "$b1_ADDR" -t gone-later -K :
check "each partition of gone has one directory, on its broker ($(dirs_of gone) of 6)" test "$(dirs_of gone)" -eq 6
timeout 10 ktopic delete gone -b "$b2_ADDR"
check "ktopic delete gone exits 0" test $? -eq 0
check "gone's directories are removed on every broker" wait_until 5 eval '[ "$(dirs_of gone)" -eq 0 ]'
check "gone is in nobody's metadata" \
  test "$(rpc "$b3_ADDR" '{"op":"metadata","id":1}' | jq '[.topics[] | select(.topic == "gone")] | length')" = 0

stop_broker b3
check "broker 3 exits 0 on SIGTERM" test $? -eq 0
timeout 10 ktopic delete gone-later -b "$b1_ADDR"
check "ktopic delete gone-later while broker 3 is down exits 0" test $? -eq 0
check "brokers 1 and 2 remove their copies" \
  wait_until 5 eval '[ -z "$(find "$b1_DIR" "$b2_DIR" -maxdepth 1 -name "gone-later-*")" ]'
check "broker 3, down, still has its copy" test -n "$(find "$b3_DIR" -maxdepth 1 -name 'gone-later-*')"
restart_broker b3 || { fail "broker 3 did not restart"; finish; }
check "broker 3 removes its copy when it comes back" \
  test -z "$(find "$b3_DIR" -maxdepth 1 -name "gone-later-*")"
check "and says why" grep -q 'deleting topic "gone-later": deleted in the cluster' "$b3_LOG"
timeout 10 ktopic create gone-later -p 3 -b "$b1_ADDR" >/dev/null
check "the name can be used again, empty ($(timeout 10 kconsume -b "$b3_ADDR" -t gone-later | wc -l) records)" \
  test "$(timeout 10 kconsume -b "$b3_ADDR" -t gone-later | wc -l)" -eq 0

# --- a standalone data dir joins ----------------------------------------------
timeout 10 ktopic create orders -p 6 -b "$b1_ADDR" >/dev/null
start_broker sa --node-id 4 || { fail "the standalone broker did not start"; finish; }
timeout 10 ktopic create legacy -p 2 -b "$sa_ADDR" >/dev/null
timeout 10 ktopic create orders -p 1 -b "$sa_ADDR" >/dev/null
seq 1 1000 | sed 's/.*/k&:legacy-&/' | timeout 20 kproduce -b "$sa_ADDR" -t legacy -K :
seq 1 10 | sed 's/^/standalone-order-/' | timeout 20 kproduce -b "$sa_ADDR" -t orders
stop_broker sa
check "the standalone broker exits 0 on SIGTERM" test $? -eq 0
legacy_hash=$(cat "$sa_DIR"/legacy-*/*.log | sha256sum)
orders_hash=$(cat "$sa_DIR"/orders-0/*.log | sha256sum)

start_broker sa --coordinator "$z_ADDR" --node-id 4 || { fail "the standalone data dir did not join"; finish; }
check "the joined broker is live" wait_until 5 eval '[ "$(broker_state "$b1_ADDR" 4)" = live ]'
check "its topic legacy is registered, led by node 4 ($(leaders "$b2_ADDR" legacy))" \
  wait_until 5 eval '[ "$(leaders "$b2_ADDR" legacy)" = "[4,4]" ]'
timeout 20 kconsume -b "$b1_ADDR" -t legacy --format '%k %v\n' >"$T/legacy.out" 2>"$T/legacy.err"
check "its 1,000 records are readable through broker 1 ($(wc -l <"$T/legacy.out"): $(head -1 "$T/legacy.err"))" \
  test "$(wc -l <"$T/legacy.out")" -eq 1000
check "legacy's data is byte for byte what it was" test "$(cat "$sa_DIR"/legacy-*/*.log | sha256sum)" = "$legacy_hash"
check "the cluster's orders keeps its six partitions on brokers 1-3" \
  test "$(leaders "$b2_ADDR" orders)" = "[1,2,3,1,2,3]"
check "the standalone orders (a name the cluster had) is kept on disk" \
  test "$(cat "$sa_DIR"/orders-0/*.log | sha256sum)" = "$orders_hash"
check "and the broker says so" \
  grep -q 'local topic "orders" is not the cluster.s topic of that name; its data is kept but not served' "$sa_LOG"
seq 1 100 | sed 's/.*/n&:new-&/' | timeout 20 kproduce -b "$b2_ADDR" -t legacy -K :
check "legacy takes new records through broker 2" \
  test "$(timeout 20 kconsume -b "$b3_ADDR" -t legacy | wc -l)" -eq 1100
echo "the joined broker's warnings: $(grep -c ' warn ' "$sa_LOG") lines" >&2

# --- a data dir of this cluster refuses another ---------------------------------
stop_broker sa
check "the joined broker exits 0 on SIGTERM" test $? -eq 0
before=$(tree_hash "$sa_DIR")
start_kzk y --session-timeout-ms "$SESSION_MS" --heartbeat-interval-ms "$HEARTBEAT_MS" || { fail "a second kzk-lite did not start"; finish; }
timeout 20 kbroker --listen 127.0.0.1:0 --data-dir "$sa_DIR" --coordinator "$y_ADDR" --node-id 4 2>"$T/other.log"
rc=$?
check "joining another kzk-lite exits 78 (got $rc)" test "$rc" -eq 78
check "naming both clusters ($(grep ' error ' "$T/other.log"))" \
  grep -Eq "error data dir .* belongs to cluster [0-9a-f]+, but the coordinator runs cluster [0-9a-f]+" "$T/other.log"
check "the data dir is untouched" test "$(tree_hash "$sa_DIR")" = "$before"
check "and still joins its own cluster" start_broker sa --coordinator "$z_ADDR" --node-id 4
check "with legacy's records all there" \
  test "$(timeout 20 kconsume -b "$sa_ADDR" -t legacy | wc -l)" -eq 1100

for n in 1 2 3; do
  stop_broker "b$n"
  check "broker $n exits 0 on SIGTERM" test $? -eq 0
done
stop_broker sa
stop_broker y
stop_broker z
check "kzk-lite exits 0 on SIGTERM" test $? -eq 0
finish
