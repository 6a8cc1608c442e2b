# The fault tests' cluster in Linux network namespaces (bash; fault.sh sources it), so that a
# network partition can cut chosen links while others stay up. Root only.
#
# Layout: one bridge in the test's own namespace holding 10.A.B.254 (where the workload and the
# test's rpc calls come from); kzk-lite in namespace <tag>z at 10.A.B.10, broker N in <tag>bN at
# 10.A.B.N, each joined to the bridge by a veth pair. Every process listens on its namespace's
# own address with an OS-chosen port, so the variables are those of start_cluster (z_ADDR,
# b1_PID, b1_DIR, ...) and stop_broker, kill9_broker, rpc, leaders work unchanged.
#
#   netns_usable                  # 0 if root and `ip netns` works; NETNS_WHY says why not
#   start_netns_cluster           # z b1 b2 b3 in their namespaces
#   netns_restart_broker bN       # again, same namespace, port and data dir
#   cut_link A B / heal_link A B  # A, B: z b1 b2 b3; drops traffic both ways between them
#   heal_all
# A cut is a blackhole route to the peer's /32 in each of the two namespaces: no nft or
# iptables needed, and the bridge (the clients' path) is untouched.

NETNS_TAG="kf$(( $$ % 100000 ))"
_netns_net="10.$(( 200 + $$ % 50 )).$(( ($$ / 50) % 250 ))"
_netns_made=()
_netns_cuts=()

netns_usable() {
  NETNS_WHY=""
  if [ "$(id -u)" != 0 ]; then
    NETNS_WHY="network partitions need root (namespaces, veth pairs, routes); run as root"
    return 1
  fi
  command -v ip >/dev/null || { NETNS_WHY="ip (iproute2) is not installed"; return 1; }
  local probe="${NETNS_TAG}p"
  if ! ip netns add "$probe" 2>/dev/null; then
    NETNS_WHY="ip netns add fails here (no CAP_SYS_ADMIN, or no network namespaces)"
    return 1
  fi
  if ! ip link add "${probe}a" type veth peer name "${probe}b" 2>/dev/null; then
    ip netns del "$probe" 2>/dev/null
    NETNS_WHY="veth pairs cannot be made here"
    return 1
  fi
  ip link del "${probe}a" 2>/dev/null
  ip netns del "$probe" 2>/dev/null
  return 0
}

# netns_teardown: removes the namespaces and the bridge this test made (runs at exit).
netns_teardown() {
  local ns
  for ns in "${_netns_made[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  ip link del "${NETNS_TAG}br" 2>/dev/null
}

_netns_ip() {
  case $1 in
    z) echo "$_netns_net.10" ;;
    b*) echo "$_netns_net.${1#b}" ;;
  esac
}

# _netns_node NAME: a namespace for NAME wired to the bridge.
_netns_node() {
  local name=$1 ns="${NETNS_TAG}$1" ip
  ip=$(_netns_ip "$name")
  ip netns add "$ns" || return 1
  _netns_made+=("$ns")
  ip link add "${NETNS_TAG}$1h" type veth peer name "${NETNS_TAG}$1n" || return 1
  ip link set "${NETNS_TAG}$1n" netns "$ns" || return 1
  ip link set "${NETNS_TAG}$1h" master "${NETNS_TAG}br" up || return 1
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/24" dev "${NETNS_TAG}$1n" || return 1
  ip -n "$ns" link set "${NETNS_TAG}$1n" up || return 1
}

# _netns_await NAME PID LOG IP: the listening line on IP; sets NAME_PORT and NAME_ADDR.
_netns_await() { _await_listening "(in namespace ${NETNS_TAG}$1)" "$1" "$2" "$3" "$4"; }

# _netns_start NAME PROGRAM DATA-SUBDIR [flags...]: PROGRAM in NAME's namespace.
_netns_start() {
  local name=$1 program=$2 sub=$3
  shift 3
  local ip dir="$TEST_TMP/$name" log="$TEST_TMP/$name.log" port_var="${name}_PORT"
  ip=$(_netns_ip "$name")
  mkdir -p "$dir"
  : >"$log"
  # ip netns exec execs the program: $! is the program itself, so signals reach it directly.
  ip netns exec "${NETNS_TAG}$name" "$(command -v "$program")" --listen "$ip:${!port_var:-0}" \
    --data-dir "$dir/$sub" "$@" 2>>"$log" &
  local pid=$!
  _started_pids+=("$pid")
  printf -v "${name}_PID" %s "$pid"
  printf -v "${name}_DIR" %s "$dir/$sub"
  printf -v "${name}_LOG" %s "$log"
  printf -v "${name}_FLAGS" %s "$*"
  _netns_await "$name" "$pid" "$log" "$ip"
}

start_netns_cluster() {
  trap 'cleanup; netns_teardown' EXIT
  # Another test's bridge may hold this /24 already: two would make the routes ambiguous.
  local tries=0
  while [ -n "$(ip -4 route show "$_netns_net.0/24" 2>/dev/null)" ] && [ $((tries += 1)) -lt 50 ]; do
    _netns_net="10.$((200 + RANDOM % 50)).$((RANDOM % 250))"
  done
  ip link add "${NETNS_TAG}br" type bridge || return 1
  ip addr add "$_netns_net.254/24" dev "${NETNS_TAG}br" || return 1
  ip link set "${NETNS_TAG}br" up || return 1
  local n
  for n in z b1 b2 b3; do _netns_node "$n" || return 1; done
  _netns_start z kzk-lite meta --session-timeout-ms "$SESSION_MS" --heartbeat-interval-ms "$HEARTBEAT_MS" || return 1
  for n in 1 2 3; do
    _netns_start "b$n" kbroker data --coordinator "$z_ADDR" --node-id "$n" || return 1
  done
}

netns_restart_broker() {
  local name=$1 flags_var="${1}_FLAGS"
  # shellcheck disable=SC2086
  _netns_start "$name" kbroker data ${!flags_var}
}

_netns_route() {
  local verb=$1 a=$2 b=$3
  ip -n "${NETNS_TAG}$a" route "$verb" blackhole "$(_netns_ip "$b")/32" 2>/dev/null
  ip -n "${NETNS_TAG}$b" route "$verb" blackhole "$(_netns_ip "$a")/32" 2>/dev/null
}
cut_link() {
  _netns_route add "$1" "$2" || return 1
  _netns_cuts+=("$1 $2")
}
heal_link() { _netns_route del "$1" "$2"; }
heal_all() {
  local c
  for c in "${_netns_cuts[@]}"; do
    # shellcheck disable=SC2086
    heal_link $c
  done
  _netns_cuts=()
}
