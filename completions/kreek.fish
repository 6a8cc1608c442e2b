# fish completion for kreek's tools: kbroker, ktopic, kproduce, kconsume and kzk-lite.
# Install as kreek.fish in ~/.config/fish/conf.d/ (one file, all four tools).
# Topic names come from `ktopic list` when a broker answers within a second.

# The -b/--brokers given so far on the command line (the last one), as ktopic arguments.
function __kreek_broker_args
    set -l args
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case -b --brokers
                set -l j (math $i + 1)
                if test $j -le (count $tokens)
                    set args -b $tokens[$j]
                end
            case '--brokers=*'
                set args -b (string replace -- '--brokers=' '' $tokens[$i])
        end
    end
    for a in $args  # nothing at all when no broker was named
        echo $a
    end
end

function __kreek_topics
    timeout 1 ktopic (__kreek_broker_args) list 2>/dev/null
end

function __kreek_groups
    timeout 1 ktopic (__kreek_broker_args) group list 2>/dev/null | awk 'NR > 1 { print $1 }'
end

function __kreek_config_keys
    # After KEY=, the values of the keys that have a fixed set.
    switch (commandline -ct)
        case 'cleanup.policy=*'
            printf 'cleanup.policy=%s\n' delete compact compact,delete
            return
        case 'unclean.leader.election.enable=*'
            printf 'unclean.leader.election.enable=%s\n' true false
            return
    end
    printf '%s=\n' cleanup.policy delete.retention.ms flush.messages flush.ms \
        index.interval.bytes max.message.bytes min.cleanable.dirty.ratio \
        min.compaction.lag.ms min.insync.replicas replica.lag.time.max.ms \
        retention.bytes retention.ms segment.bytes segment.ms unclean.leader.election.enable
end

# Options every client tool shares.
for tool in ktopic kproduce kconsume
    complete -c $tool -s b -l brokers -x -d 'Brokers to contact (host:port,...)'
    complete -c $tool -l auth-token-file -r -F -d 'File holding the auth token (mode 0600)'
    complete -c $tool -l tls-ca -r -F -d 'Connect with TLS, trusting the CA certificates in FILE'
    complete -c $tool -s v -l verbose -d 'Print informational messages'
    complete -c $tool -s q -l quiet -d 'Print only errors'
    complete -c $tool -s h -l help -d 'Print usage and exit'
    complete -c $tool -l version -d 'Print version and exit'
end

# kbroker
complete -c kbroker -f
complete -c kbroker -l listen -x -a '127.0.0.1:9092 127.0.0.1:0 0.0.0.0:9092' -d 'Address to accept clients on'
complete -c kbroker -l data-dir -x -a '(__fish_complete_directories)' -d 'Data directory'
complete -c kbroker -l node-id -x -d 'Node id'
complete -c kbroker -l coordinator -x -a '127.0.0.1:2181' -d 'kzk-lite coordinators to join'
complete -c kbroker -l advertise -x -d 'Address given to clients and brokers'
complete -c kbroker -l metrics-listen -x -a '127.0.0.1:9644 127.0.0.1:0' -d 'Serve Prometheus /metrics and /health here'
complete -c kbroker -l auth-token-file -r -F -d 'Require clients to send the token in FILE'
complete -c kbroker -l read-only-token-file -r -F -d 'Also admit the token in FILE, for reading only'
complete -c kbroker -l tls-cert -r -F -d 'Listen with TLS, presenting the certificate chain in FILE'
complete -c kbroker -l tls-key -r -F -d 'Private key of --tls-cert (mode 0600)'
complete -c kbroker -l tls-ca -r -F -d 'Dial coordinators and leaders with TLS, trusting the CA in FILE'
complete -c kbroker -l umask -x -a '077 027 022' -d 'Umask for created files (default 077)'
complete -c kbroker -l rack -x -d 'Rack or zone of this broker'
complete -c kbroker -l no-auto-create -d 'Do not create topics on first use'
complete -c kbroker -l default-partitions -x -d 'Partitions of auto-created topics'
complete -c kbroker -l max-request-bytes -x -d 'Longest request line'
complete -c kbroker -l max-connections -x -d 'Open connections at most'
complete -c kbroker -l idle-timeout-ms -x -d 'Close a silent connection after ms'
complete -c kbroker -l line-timeout-ms -x -d 'Close an unfinished request line after ms'
complete -c kbroker -l max-queued-bytes -x -d 'Response bytes held for all clients'
complete -c kbroker -l max-queued-bytes-per-connection -x -d 'Unsent response bytes per client'
complete -c kbroker -l max-request-buffer-bytes -x -d 'Unhandled request bytes for all clients'
complete -c kbroker -l send-timeout-ms -x -d 'Close a client that reads nothing after ms'
complete -c kbroker -l max-fetch-parts -x -d 'Partitions one fetch may name'
complete -c kbroker -l max-parked-fetches-per-connection -x -d 'Long polls waiting per connection'
complete -c kbroker -l flush-messages -x -d 'Default flush.messages'
complete -c kbroker -l flush-ms -x -d 'Default flush.ms'
complete -c kbroker -l retention-ms -x -d 'Default retention.ms'
complete -c kbroker -l retention-bytes -x -d 'Default retention.bytes'
complete -c kbroker -l segment-bytes -x -d 'Default segment.bytes'
complete -c kbroker -l segment-ms -x -d 'Default segment.ms'
complete -c kbroker -l retention-check-interval-ms -x -d 'How often retention runs (1 to 30000 ms)'
complete -c kbroker -l max-open-segments -x -d 'Descriptors closed segments keep open'
complete -c kbroker -l compaction-check-interval-ms -x -d 'How often the log cleaner looks for work'
complete -c kbroker -l offsets-topic-partitions -x -d 'Partitions of __consumer_offsets when created'
complete -c kbroker -l offsets-topic-replication-factor -x -d 'Replicas of __consumer_offsets when created'
complete -c kbroker -l group-min-session-timeout-ms -x -d 'Shortest session a group member may ask for'
complete -c kbroker -l group-max-session-timeout-ms -x -d 'Longest session a group member may ask for'
complete -c kbroker -l group-initial-rebalance-delay-ms -x -d 'How long an empty group waits for more members'
complete -c kbroker -s v -l verbose -d 'Also log debug lines'
complete -c kbroker -s q -l quiet -d 'Log only warnings and errors'
complete -c kbroker -s h -l help -d 'Print usage and exit'
complete -c kbroker -l version -d 'Print version and exit'

# kzk-lite
complete -c kzk-lite -f
complete -c kzk-lite -l listen -x -a '127.0.0.1:2181 127.0.0.1:0 0.0.0.0:2181' -d 'Address to accept brokers on'
complete -c kzk-lite -l data-dir -x -a '(__fish_complete_directories)' -d 'Metadata log directory'
complete -c kzk-lite -l session-timeout-ms -x -d 'Fence a broker silent this long'
complete -c kzk-lite -l heartbeat-interval-ms -x -d 'How often brokers heartbeat'
complete -c kzk-lite -l election-interval-ms -x -d 'How often leaders are checked'
complete -c kzk-lite -l snapshot-every -x -d 'Records between snapshots'
complete -c kzk-lite -l unclean-leader-election -d 'Allow leaders from outside the ISR by default'
complete -c kzk-lite -l auth-token-file -r -F -d 'Require connections to send the token in FILE'
complete -c kzk-lite -l tls-cert -r -F -d 'Listen with TLS, presenting the certificate chain in FILE'
complete -c kzk-lite -l tls-key -r -F -d 'Private key of --tls-cert (mode 0600)'
complete -c kzk-lite -l umask -x -a '077 027 022' -d 'Umask for created files (default 077)'
complete -c kzk-lite -s v -l verbose -d 'Also log debug lines'
complete -c kzk-lite -s q -l quiet -d 'Log only warnings and errors'
complete -c kzk-lite -s h -l help -d 'Print usage and exit'
complete -c kzk-lite -l version -d 'Print version and exit'

# ktopic
set -l __kreek_ktopic_cmds create list describe alter delete cluster reassign partition-for metrics group
complete -c ktopic -f
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a create -d 'Create a topic'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a list -d 'List topics'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a describe -d 'Describe a topic'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a alter -d 'Change topic configuration'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a delete -d 'Delete a topic'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a cluster -d 'Show the brokers and what each leads'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a reassign -d 'Move replicas between brokers'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a partition-for -d 'Show the partition each key goes to'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a metrics -d "Show a broker's metrics"
complete -c ktopic -n '__fish_seen_subcommand_from describe alter delete reassign partition-for; and not __fish_seen_subcommand_from group' -a '(__kreek_topics)' -d topic
complete -c ktopic -n '__fish_seen_subcommand_from metrics' -l broker -x -d 'The broker to ask (HOST:PORT or node id)'
complete -c ktopic -n "not __fish_seen_subcommand_from $__kreek_ktopic_cmds" -a group -d 'List, describe, reset and delete consumer groups'
set -l __kreek_group_cmds list describe reset delete
complete -c ktopic -n "__fish_seen_subcommand_from group; and not __fish_seen_subcommand_from $__kreek_group_cmds" -a list -d 'List consumer groups'
complete -c ktopic -n "__fish_seen_subcommand_from group; and not __fish_seen_subcommand_from $__kreek_group_cmds" -a describe -d 'Members, offsets and lag of a group'
complete -c ktopic -n "__fish_seen_subcommand_from group; and not __fish_seen_subcommand_from $__kreek_group_cmds" -a reset -d "Plan or commit new offsets for a group"
complete -c ktopic -n "__fish_seen_subcommand_from group; and not __fish_seen_subcommand_from $__kreek_group_cmds" -a delete -d 'Delete an empty group'
complete -c ktopic -n '__fish_seen_subcommand_from group; and __fish_seen_subcommand_from describe reset delete' -a '(__kreek_groups)' -d group
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l to-earliest -d 'Reset to the log start'
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l to-latest -d 'Reset to the end'
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l to-offset -x -d 'Reset to this offset'
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l to-time -x -d 'Reset to the first offset at a time (as kconsume --from)'
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l shift-by -x -d 'Move the committed offsets by N'
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l topic -x -a '(__kreek_topics)' -d 'Reset only TOPIC or TOPIC:P,P'
complete -c ktopic -n '__fish_seen_subcommand_from reset' -l execute -d 'Commit the planned offsets'
complete -c ktopic -n '__fish_seen_subcommand_from reassign' -l partition -x -d 'The partition to move'
complete -c ktopic -n '__fish_seen_subcommand_from reassign' -l replicas -x -d 'New replicas, preferred leader first (2,3,1)'
complete -c ktopic -n '__fish_seen_subcommand_from reassign' -l cancel -d 'Cancel the running move'
complete -c ktopic -n '__fish_seen_subcommand_from reassign' -l rebalance -d 'Plan an even spread over the live brokers'
complete -c ktopic -n '__fish_seen_subcommand_from reassign' -l execute -d 'Start the planned moves'
complete -c ktopic -s p -l partitions -x -d 'Number of partitions (create), or raise it to (alter)'
complete -c ktopic -s r -l replication-factor -x -d 'Copies of each partition (create)'
complete -c ktopic -s c -l config -x -a '(__kreek_config_keys)' -d 'KEY=VALUE override (create, alter)'
complete -c ktopic -l json -d 'Print the JSON response'

# kproduce (positional arguments are input files)
complete -c kproduce -s t -l topic -x -a '(__kreek_topics)' -d 'Topic to append to'
complete -c kproduce -s k -l key -x -d 'Key of every record'
complete -c kproduce -s K -l key-separator -x -d 'Split lines into key and value at SEP'
complete -c kproduce -l json -d 'Read JSON record objects'
complete -c kproduce -s H -l header -x -d 'NAME=VALUE header on every record'
complete -c kproduce -s p -l partition -x -d 'Partition to append to'
complete -c kproduce -l acks -x -a '0 1 all' -d 'When the broker acknowledges'
complete -c kproduce -l linger-ms -x -d 'Longest wait for a batch to fill'
complete -c kproduce -l batch-bytes -x -d 'Send a batch at this size'
complete -c kproduce -l max-in-flight -x -d 'Unacknowledged batches per connection'
complete -c kproduce -l no-idempotence -d 'No producer id: a resent batch may be stored twice'
complete -c kproduce -l timeout -x -d 'Give up after a record waits this long for its ack'
complete -c kproduce -l follow -d 'Follow the files by name like tail -F (globs allowed)'
complete -c kproduce -l state -r -F -d 'With --follow: save acknowledged positions in FILE'
complete -c kproduce -l state-interval-ms -x -d 'Save --state at most this often'
complete -c kproduce -l poll-interval-ms -x -d 'Re-check names and globs this often'
complete -c kproduce -l partial-wait-ms -x -d 'Hold a line without newline this long'
complete -c kproduce -l rotate-wait-ms -x -d 'Read a rotated file until idle this long'
complete -c kproduce -l read-from -x -a 'beginning end' -d 'Where to start files the state does not know'
complete -c kproduce -l source-headers -d 'Add file and host headers'
complete -c kproduce -l receipts -r -F -d 'One JSON receipt per acknowledged record'

# kconsume
complete -c kconsume -f
complete -c kconsume -s t -l topic -x -a '(__kreek_topics)' -d 'Topic to read'
complete -c kconsume -s f -l follow -d 'Wait for new records'
complete -c kconsume -s n -l last -x -d 'Start N records before the end'
complete -c kconsume -l from -x -a 'beginning end' -d 'Where to start (or OFFSET, TIME)'
complete -c kconsume -s p -l partition -x -d 'Read one partition'
complete -c kconsume -s c -l count -x -d 'Exit after N records'
complete -c kconsume -l json -d 'One JSON envelope per record'
complete -c kconsume -l format -x -d 'Output format (%t %p %o %k %v %T %h)'
complete -c kconsume -l null -x -a NULL -d 'Print a null key or value as STR'
complete -c kconsume -l checkpoint -r -F -d 'Start from and save offsets in FILE'
complete -c kconsume -l reset -x -a 'earliest latest' -d 'Where to jump when a start offset is out of range (default: fail)'
complete -c kconsume -s g -l group -x -a '(__kreek_groups)' -d 'Read as a member of this consumer group'
complete -c kconsume -l assignor -x -a 'range roundrobin sticky cooperative-sticky' -d 'How the group shares partitions'
complete -c kconsume -l session-timeout-ms -x -d 'A member silent this long leaves the group'
complete -c kconsume -l commit-interval-ms -x -d 'Commit what was written this often'
complete -c kconsume -l commit -x -a 'on off' -d 'Commit positions to the group'
complete -c kconsume -l instance-id -x -d 'Stable member name (static membership)'
