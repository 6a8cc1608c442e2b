# bash completion for kreek's tools: kbroker, ktopic, kproduce, kconsume and kzk-lite.
# One file serves all four; bash-completion loads completions by command name,
# so install it under each tool's name (or source it from ~/.bashrc).
# Topic names come from `ktopic list` when a broker answers within a second.

_kreek_common_flags='-b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help --version'
_kreek_config_keys='cleanup.policy= delete.retention.ms= flush.messages= flush.ms=
  index.interval.bytes= max.message.bytes= min.cleanable.dirty.ratio=
  min.compaction.lag.ms= min.insync.replicas= replica.lag.time.max.ms=
  retention.bytes= retention.ms= segment.bytes= segment.ms= unclean.leader.election.enable='

# _kreek_topics BROKERS: topic names, or nothing if no broker answers quickly.
_kreek_topics() {
  local -a args=()
  [[ -n $1 ]] && args=(-b "$1")
  timeout 1 ktopic "${args[@]}" list 2>/dev/null
}

# _kreek_groups BROKERS: consumer group names, or nothing if no broker answers quickly.
_kreek_groups() {
  local -a args=()
  [[ -n $1 ]] && args=(-b "$1")
  timeout 1 ktopic "${args[@]}" group list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# _kreek_reply WORDS...: completes the current word from WORDS.
_kreek_reply() {
  local IFS=$'\n'
  # shellcheck disable=SC2207
  COMPREPLY=($(IFS=$' \t\n' compgen -W "$*" -- "$cur"))
}

_kreek_files() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  # shellcheck disable=SC2207
  COMPREPLY=($(compgen -f -- "$cur"))
}

_kreek_dirs() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  # shellcheck disable=SC2207
  COMPREPLY=($(compgen -d -- "$cur"))
}

_kreek() {
  local cur prev cmd brokers="" i sub="" sub2="" nargs=0
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  cmd=${COMP_WORDS[0]##*/}

  # KEY=VALUE words are split at '=' by readline (COMP_WORDBREAKS): the word
  # before the '=' is the key; complete the values of the keys that have a
  # fixed set (`-c cleanup.policy=<TAB>`), nothing for the others.
  if [[ $cur == = || $prev == = ]]; then
    local key=$prev val=""
    if [[ $prev == = ]]; then
      key=${COMP_WORDS[COMP_CWORD - 2]}
      val=$cur
    fi
    case $key in
      cleanup.policy) cur=$val _kreek_reply delete compact compact,delete ;;
      unclean.leader.election.enable) cur=$val _kreek_reply true false ;;
    esac
    return 0
  fi

  # Find -b/--brokers (for topic lookups) and, for ktopic, the subcommand.
  local takes_value='^(-b|--brokers|-t|--topic|-p|--partitions|--partition|-c|--config|--count|-k|--key|-K|--key-separator|-H|--header|--acks|--linger-ms|--batch-bytes|--max-in-flight|--timeout|-n|--last|--from|--format|--null|--checkpoint|--reset|--listen|--data-dir|--node-id|--default-partitions|--max-request-bytes|--max-connections|--idle-timeout-ms|--line-timeout-ms|--max-queued-bytes|--max-queued-bytes-per-connection|--max-request-buffer-bytes|--send-timeout-ms|--max-fetch-parts|--max-parked-fetches-per-connection|--flush-messages|--flush-ms|--retention-ms|--retention-bytes|--segment-bytes|--segment-ms|--retention-check-interval-ms|--max-open-segments|--compaction-check-interval-ms|--metrics-listen|--broker|-g|--group|--assignor|--session-timeout-ms|--commit-interval-ms|--commit|--instance-id|--to-offset|--to-time|--shift-by|--auth-token-file|--read-only-token-file|--tls-ca|--tls-cert|--tls-key|--umask)$'
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -b | --brokers) brokers=${COMP_WORDS[i + 1]} ;;
    esac
    if [[ ${COMP_WORDS[i]} =~ $takes_value ]]; then
      ((i++))
      continue
    fi
    if [[ ${COMP_WORDS[i]} != -* ]]; then
      if [[ -z $sub ]]; then
        sub=${COMP_WORDS[i]}
      else
        [[ -z $sub2 ]] && sub2=${COMP_WORDS[i]}
        ((nargs++))
      fi
    fi
  done

  case $cmd in
    kbroker)
      case $prev in
        --data-dir) _kreek_dirs; return 0 ;;
        --auth-token-file | --read-only-token-file | --tls-cert | --tls-key | --tls-ca) _kreek_files; return 0 ;;
        --umask) _kreek_reply 077 027 022; return 0 ;;
        --listen) _kreek_reply 127.0.0.1:9092 127.0.0.1:0 0.0.0.0:9092; return 0 ;;
        --coordinator) _kreek_reply 127.0.0.1:2181; return 0 ;;
        --metrics-listen) _kreek_reply 127.0.0.1:9644 127.0.0.1:0 0.0.0.0:9644; return 0 ;;
        --advertise | --rack) return 0 ;;
        --node-id | --default-partitions | --max-request-bytes | --max-connections | --idle-timeout-ms | --line-timeout-ms | --max-queued-bytes | --max-queued-bytes-per-connection | --max-request-buffer-bytes | --send-timeout-ms | --max-fetch-parts | --max-parked-fetches-per-connection | --flush-messages | --flush-ms | \
          --retention-ms | --retention-bytes | --segment-bytes | --segment-ms | \
          --retention-check-interval-ms | --max-open-segments | --compaction-check-interval-ms) return 0 ;;
        --offsets-topic-partitions | --offsets-topic-replication-factor | --group-min-session-timeout-ms | \
          --group-max-session-timeout-ms | --group-initial-rebalance-delay-ms) return 0 ;;
      esac
      _kreek_reply --listen --data-dir --node-id --coordinator --advertise --metrics-listen --rack --no-auto-create --default-partitions \
        --max-request-bytes --max-connections --idle-timeout-ms --line-timeout-ms --max-queued-bytes --max-queued-bytes-per-connection --max-request-buffer-bytes --send-timeout-ms --max-fetch-parts --max-parked-fetches-per-connection --flush-messages --flush-ms --retention-ms --retention-bytes \
        --segment-bytes --segment-ms --retention-check-interval-ms --max-open-segments \
        --compaction-check-interval-ms \
        --offsets-topic-partitions --offsets-topic-replication-factor --group-min-session-timeout-ms \
        --group-max-session-timeout-ms --group-initial-rebalance-delay-ms --auth-token-file --read-only-token-file --tls-cert --tls-key --tls-ca --umask \
        -v --verbose -q --quiet -h --help --version
      ;;
    kzk-lite)
      case $prev in
        --data-dir) _kreek_dirs; return 0 ;;
        --auth-token-file | --tls-cert | --tls-key) _kreek_files; return 0 ;;
        --umask) _kreek_reply 077 027 022; return 0 ;;
        --listen) _kreek_reply 127.0.0.1:2181 127.0.0.1:0 0.0.0.0:2181; return 0 ;;
        --session-timeout-ms | --heartbeat-interval-ms | --election-interval-ms | --snapshot-every) return 0 ;;
      esac
      _kreek_reply --listen --data-dir --session-timeout-ms --heartbeat-interval-ms \
        --election-interval-ms --snapshot-every --unclean-leader-election --auth-token-file --tls-cert --tls-key --umask \
        -v --verbose -q --quiet -h --help --version
      ;;
    ktopic)
      case $prev in
        -b | --brokers | -p | --partitions | --partition | -r | --replication-factor | --replicas | \
          --to-offset | --to-time | --shift-by | --broker) return 0 ;;
        --topic)
          # shellcheck disable=SC2046
          _kreek_reply $(_kreek_topics "$brokers")
          return 0
          ;;
        -c | --config)
          compopt -o nospace 2>/dev/null
          # shellcheck disable=SC2086
          _kreek_reply $_kreek_config_keys
          return 0
          ;;
      esac
      if [[ $cur == -* ]]; then
        # The common flags work before and after the command; after it, offer
        # that command's own flags with them.
        case $sub in
          '') _kreek_reply -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help --version ;;
          create) _kreek_reply -p --partitions -r --replication-factor -c --config --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
          alter) _kreek_reply -c --config -p --partitions --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
          partition-for) _kreek_reply --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
          metrics) _kreek_reply --broker --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
          list | describe | cluster) _kreek_reply --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
          reassign) _kreek_reply -p --partition --replicas --cancel --rebalance --execute --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
          group)
            case $sub2 in
              reset) _kreek_reply --to-earliest --to-latest --to-offset --to-time --shift-by --topic --execute --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
              list | describe) _kreek_reply --json -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
              *) _kreek_reply -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
            esac
            ;;
          *) _kreek_reply -b --brokers --auth-token-file --tls-ca -v --verbose -q --quiet -h --help ;;
        esac
      elif [[ -z $sub ]]; then
        _kreek_reply create list describe alter delete cluster reassign partition-for metrics group
      elif [[ $sub == group ]]; then
        if [[ $nargs -eq 0 ]]; then
          _kreek_reply list describe reset delete
        elif [[ $nargs -eq 1 && $sub2 =~ ^(describe|reset|delete)$ ]]; then
          # shellcheck disable=SC2046
          _kreek_reply $(_kreek_groups "$brokers")
        fi
      elif [[ $nargs -eq 0 && $sub =~ ^(describe|alter|delete|reassign|partition-for)$ ]]; then
        # shellcheck disable=SC2046
        _kreek_reply $(_kreek_topics "$brokers")
      fi
      ;;
    kproduce)
      case $prev in
        -t | --topic)
          # shellcheck disable=SC2046
          _kreek_reply $(_kreek_topics "$brokers")
          return 0
          ;;
        --acks) _kreek_reply 0 1 all; return 0 ;;
        --read-from) _kreek_reply beginning end; return 0 ;;
        --state | --receipts) _kreek_files; return 0 ;;
        -b | --brokers | -k | --key | -K | --key-separator | -H | --header | -p | --partition | \
          --linger-ms | --batch-bytes | --max-in-flight | --timeout | --state-interval-ms | \
          --poll-interval-ms | --partial-wait-ms | --rotate-wait-ms) return 0 ;;
      esac
      if [[ $cur == -* ]]; then
        # shellcheck disable=SC2086
        _kreek_reply -t --topic -k --key -K --key-separator --json -H --header -p --partition \
          --acks --linger-ms --batch-bytes --max-in-flight --no-idempotence --timeout \
          --follow --state --state-interval-ms --poll-interval-ms --partial-wait-ms --rotate-wait-ms \
          --read-from --source-headers --receipts $_kreek_common_flags
      else
        _kreek_files
      fi
      ;;
    kconsume)
      case $prev in
        -t | --topic)
          # shellcheck disable=SC2046
          _kreek_reply $(_kreek_topics "$brokers")
          return 0
          ;;
        --from) _kreek_reply beginning end; return 0 ;;
        --reset) _kreek_reply earliest latest; return 0 ;;
        --checkpoint) _kreek_files; return 0 ;;
        -g | --group)
          # shellcheck disable=SC2046
          _kreek_reply $(_kreek_groups "$brokers")
          return 0
          ;;
        --assignor) _kreek_reply range roundrobin sticky cooperative-sticky; return 0 ;;
        --commit) _kreek_reply on off; return 0 ;;
        -b | --brokers | -n | --last | -p | --partition | -c | --count | --format | --null | \
          --session-timeout-ms | --commit-interval-ms | --instance-id) return 0 ;;
      esac
      # shellcheck disable=SC2086
      _kreek_reply -t --topic -f --follow -n --last --from -p --partition -c --count --json --format \
        --null --checkpoint --reset -g --group --assignor --session-timeout-ms --commit-interval-ms \
        --commit --instance-id $_kreek_common_flags
      ;;
  esac
  return 0
}

complete -F _kreek kbroker ktopic kproduce kconsume kzk-lite
