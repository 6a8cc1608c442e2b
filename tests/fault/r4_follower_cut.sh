#!/usr/bin/env bash
# r4_follower_cut.sh: a follower of partition 0 cut off from the other brokers (network
# namespaces, as root; SIGSTOP when namespaces are unusable). The leader drops it from the ISR
# after replica.lag.time.max.ms, acks=all writes go on with the two left (min.insync.replicas 2),
# and once the link heals it catches up and rejoins the ISR, with every safety figure 0.
# Short: 1 cut; long (KREEK_SOAK=1 or --long): 6.
source "$(dirname "$0")/lib/fault.sh" "$@"

MODE=netns
source "$FAULT_SRC/lib/netns.sh"
if ! netns_usable; then
  MODE=sigstop
  say "network namespaces unusable ($NETNS_WHY): the follower is paused with SIGSTOP instead"
fi
if [ "$MODE" = netns ]; then fault_cluster --netns; else fault_cluster; fi
fault_topic r4 3 min.insync.replicas=2 replica.lag.time.max.ms=1000
ROUNDS=$(long 1 6)
HOLD=$(long 2 6)
start_workload --writers 6 --rate "$(long 100 300)"

for ((r = 1; r <= ROUNDS; r++)); do
  wait_for_leader 0 "cut $r" || break
  F=$(follower_of 0)
  if [ -z "$F" ] || [ "$F" = null ]; then
    fail "partition 0 has no follower to cut off (RF $FAULT_RF)"
    break
  fi
  if [ "$MODE" = netns ]; then
    for n in 1 2 3; do [ "$n" = "$F" ] || cut_link "b$F" "b$n"; done
  else
    kill -STOP "$(eval echo "\$b${F}_PID")"
  fi
  mark_fault "cut-follower" "$F" 0 false
  FAULT_AVOID=$F
  check "cut $r: partition 0's ISR drops node $F" wait_until 15 eval '! in_isr 0 "$F"'
  a0=$(acks_on 0)
  check "cut $r: acks=all writes to partition 0 go on without node $F" \
    wait_until "$HOLD" eval '[ "$(acks_on 0)" -gt "$((a0 + 10))" ]'
  sleep "$HOLD"
  if [ "$MODE" = netns ]; then heal_all; else kill -CONT "$(eval echo "\$b${F}_PID")"; fi
  mark_fault heal "$F" 0 false
  FAULT_AVOID=""
  check "cut $r: node $F rejoins partition 0's ISR" wait_until 20 in_isr 0 "$F"
done
end_safe_run
