// Producer: batches records per partition and sends them as pipelined produce
// requests to each partition's leader. A batch goes out when it reaches
// batch_bytes or linger_ms after its first record; up to max_in_flight requests
// stay outstanding per connection and acks are read as they arrive. Batches
// that fail with a retriable error (a lost connection, NOT_LEADER) are resent
// with capped backoff until their delivery timeout runs out; then the producer
// fails as a whole. Idempotent by default: the producer gets a producer id at
// start and numbers each partition's records, and a resent batch keeps its
// partition, id and sequence numbers, so a leader (also a new one after a
// failover) that already wrote it answers with the original offsets instead of
// writing it twice (exactly once per partition, not only at least once).
// While one leader is out of reach, keyless
// records go to the other partitions and keyed ones for its partitions wait,
// so the rest of the cluster keeps taking records. Single-threaded, blocking
// sockets; requests to several leaders are outstanding at once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/cluster.h"
#include "client/outage.h"
#include "client/partition_chooser.h"
#include "proto/record.h"

namespace kreek::client {

// The fate of one batch, for callers that map acknowledgements back to their
// input (kproduce --receipts, --follow --state). `tags` are the values given
// to send() for the batch's records, in order: record i got offset
// base_offset + i. On failure `status` says why and the offsets are -1.
struct Delivery {
  int32_t partition = -1;
  int64_t base_offset = -1;  // -1: unknown (acks=0, or failed)
  int64_t timestamp = -1;    // the broker's append time; -1 when the answer has none (a duplicate)
  const std::vector<uint64_t>* tags = nullptr;
  Status status;
};

// An idempotent producer taken over from an earlier process (kproduce
// --follow --state): the same id and epoch, and per partition the next
// sequence number, so a batch resent with its old numbers (send_numbered) is
// recognised by a broker that already wrote it.
struct ProducerResume {
  int64_t producer_id = -1;
  int16_t producer_epoch = 0;
  std::vector<std::pair<int32_t, int32_t>> next_sequence;  // (partition, next sequence number)
};

struct ProducerOptions {
  std::string topic;
  int acks = 1;                              // 0, 1, or -1 ("all")
  int64_t linger_ms = 5;
  int64_t batch_bytes = 256 << 10;           // target records-array size per request
  int max_in_flight = 8;                     // outstanding produce requests per connection
  std::optional<int32_t> partition;          // every record to this partition
  // Ask for a producer id and send pid/pepoch/seq with each batch, so retries
  // never duplicate records. Ignored with acks=0 (nothing is ever retried).
  bool idempotent = true;
  // How long a batch may wait for its ack, from its first record, across
  // retries and reconnects (Kafka's delivery.timeout.ms and its default: long
  // enough to ride out a broker restart or a leader failover).
  int64_t delivery_timeout_ms = 120'000;
  // Told once when batches start waiting for an unreachable broker ("waiting
  // for broker 127.0.0.1:9092 (Connection refused)") and once when an ack
  // arrives again.
  std::function<void(const std::string&)> on_waiting;
  std::function<void()> on_recovered;
  // Optional: called once per batch (or per record refused before batching)
  // when it is acknowledged or given up. Set only by callers that need it:
  // with it each batch keeps its records' tags. Must not call the producer.
  std::function<void(const Delivery&)> on_delivery;
  // Instead of asking for a new producer id (only with idempotent and acks != 0).
  std::optional<ProducerResume> resume;
  // Called once per batch after it is numbered and before it is first
  // written to a connection (with its partition, first sequence number and
  // tags), so a caller can journal it first. Needs on_delivery (for tags).
  std::function<void(int32_t partition, int32_t first_seq, const std::vector<uint64_t>& tags)> on_batch;
  // A batch refused for good whose sequence numbers went to the partition's
  // later batches (they moved down by its record count); `tags` are its tags.
  std::function<void(const std::vector<uint64_t>& tags)> on_released;
};

struct ProduceStats {
  int64_t records = 0;  // handed to send()
  int64_t acked = 0;    // acknowledged (or written, with acks=0)
  int64_t failed = 0;   // given up on
  int64_t duplicates = 0;  // resent records a broker already had (acked, written once)
  Status first_error;   // why the first failed record failed
  int64_t unacknowledged() const { return records - acked; }
};

class Producer {
 public:
  // `cluster` must outlive the producer.
  Producer(Cluster& cluster, ProducerOptions options);
  ~Producer();

  // Looks the topic up (auto_create: true) to learn its partition count.
  Status start();
  int32_t partition_count() const { return partitions_; }

  // Queues one record. `partition` overrides the key/sticky choice. May send a
  // batch and may block while the connection already has max_in_flight requests.
  // Record-level failures are counted in stats(); the Status is for fatal ones.
  // `tag` is handed back through options.on_delivery.
  Status send(const proto::Record& record, std::optional<int32_t> partition = {}, uint64_t tag = 0);
  // Sends `records` as one batch to `partition` with the sequence numbers an
  // earlier process gave it (options.resume): a broker that wrote it answers
  // with the original offsets. `tags` as for send(), one per record. Neither
  // batched with other records nor reported to on_batch.
  Status send_numbered(int32_t partition, int32_t first_seq, const std::vector<proto::Record>& records,
                       std::vector<uint64_t> tags);
  // Counts a record that failed before it could be sent (bad input line).
  void fail_local(const Status& why, uint64_t tag = 0);

  // Waits up to timeout_ms for acks, the linger deadline, or `extra_fd` (-1 for
  // none) becoming readable; sends batches whose linger expired and processes
  // acks. Returns true if extra_fd is readable (or hung up).
  Result<bool> service(int timeout_ms, int extra_fd);
  // Sends every open batch and waits until every request is answered.
  Status flush();

  const ProduceStats& stats() const { return stats_; }
  // Whether batches carry a producer id and sequence numbers. With
  // options.idempotent, false only if start() could not get an id (the
  // coordinator was unreachable); idempotence_error() says why.
  bool is_idempotent() const { return producer_id_ >= 0; }
  const Status& idempotence_error() const { return not_idempotent_; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return producer_epoch_; }
  // Per partition the sequence number of its next new batch (idempotent only).
  const std::vector<int32_t>& next_sequences() const { return next_sequence_; }

  // True while no record could be sent now: with -p, that partition's batches
  // wait to be resent; otherwise every partition's do. A caller reading input
  // should stop until it clears (back-pressure): it would only pile up more
  // batches that cannot be delivered either. A single keyed record whose
  // partition waits makes send() block instead (it must not go elsewhere),
  // while keyless records go to a partition that does not wait.
  bool is_blocked() const;
  // Whether batches of `partition` wait to be resent (its leader is out of
  // reach or moved).
  bool partition_waits(int32_t partition) const;
  // Set (TIMEOUT) once a batch's delivery timeout ran out. Every record not
  // acknowledged by then is given up at once and nothing more is sent.
  const Status& fatal() const { return fatal_; }

 private:
  struct Batch {
    std::string records;  // "[rec,rec" while open; "]" is added when it is sent
    int32_t count = 0;
    int64_t first_ms = 0;  // monotonic time of the first record: the linger clock
    std::vector<uint64_t> tags;  // only with options.on_delivery
  };
  struct InFlight {
    int32_t partition = 0;
    int32_t count = 0;
    std::string records;  // the records array text, kept until acknowledged
    int attempts = 0;
    int64_t due_ms = 0;  // retries: not before this monotonic time
    uint64_t seq = 0;    // creation order: a partition's batches are sent in seq order
    int64_t created_ms = 0;  // monotonic time of its first record: the delivery timeout's clock
    int64_t sent_ms = 0;     // when it was last written to a connection
    int32_t first_seq = 0;   // idempotence: the first record's sequence number, kept across resends
    bool renumbered = false;  // first_seq moved down since it was sent (close_sequence_hole)
    std::vector<uint64_t> tags;  // only with options.on_delivery
  };
  // One connection to a leader and the requests outstanding on it, in order.
  // Links are never erased, so pointers to them stay valid across re-entrant calls.
  struct Link {
    std::string addr;
    BrokerConnection* conn = nullptr;  // null after it broke; redialled on next use
    std::deque<InFlight> in_flight;
    std::string out;  // request line buffer, reused
  };

  void send_batch(int32_t partition);
  // Idempotence: gets the producer id (init_producer_id) and caps in-flight
  // requests at the number of batches a broker remembers per producer.
  Status init_idempotence();
  // Idempotence with the id, epoch and sequence numbers of options.resume.
  void resume_idempotence(const ProducerResume& r);

  void transmit(InFlight req);
  void await_capacity(Link& link);
  void drain_lines(Link& link);
  void handle_response(Link& link, std::string_view line);
  // Order within a partition survives retries: if an earlier batch of
  // req's partition waits for a retry, queues req behind it and returns true.
  bool hold_behind_retries(InFlight& req);
  // Idempotence: an earlier batch was refused, so later ones take its numbers.
  void close_sequence_hole(const InFlight& gone);
  // Whether a batch of req's partition made before it waits for a resend.
  bool earlier_batch_waits(const InFlight& req) const;
  // Puts req into retries_, which stays sorted by seq.
  void enqueue_retry(InFlight req);
  // When the next retry can be sent (-1: none waits).
  int64_t next_retry_due() const;
  void schedule_retry(InFlight req, const Status& why);
  void process_retries();
  void break_link(Link& link, const Status& why);
  void give_up(InFlight& req, const Status& why);
  // Tells options.on_delivery (if set) the fate of `tags`.
  void report(int32_t partition, const std::vector<uint64_t>& tags, int64_t base, int64_t ts,
              const Status& status);
  // req's delivery timeout ran out: the producer fails (fatal_) and gives up
  // everything it still holds.
  void expire(InFlight& req, const Status& why);
  void abandon_all();
  // The latest a reply to link's oldest request may take (-1: none waits).
  int64_t reply_deadline(const Link& link) const;
  void break_stalled_links(int64_t now_ms);
  void recycle(std::string& buf);
  Result<Link*> link_for(int32_t partition);
  int64_t next_deadline() const;
  void send_expired(int64_t now_ms);
  bool has_pending() const;

  Cluster& cluster_;
  ProducerOptions options_;
  int32_t partitions_ = 0;
  PartitionChooser chooser_{1, 0};
  int64_t batch_limit_ = 0;  // bytes of records array per request
  std::vector<Batch> batches_;                          // indexed by partition
  std::map<std::string, std::unique_ptr<Link>> links_;  // by leader address
  std::vector<std::string> spare_;  // recycled payload buffers
  // Requests waiting for a resend, sorted by seq. A request is sent only once
  // it is due and no earlier request of its partition still waits.
  std::deque<InFlight> retries_;
  uint64_t next_seq_ = 0;
  int64_t producer_id_ = -1;            // -1: not idempotent
  int16_t producer_epoch_ = 0;
  Status not_idempotent_;               // why init_idempotence got no id
  std::vector<int32_t> next_sequence_;  // per partition: the next record's sequence number
  std::vector<bool> seq_known_;         // per partition: a batch of ours was acknowledged there
  std::string record_buf_;          // one encoded record, reused
  Status fatal_;                    // once set, new batches fail at once
  OutageNotice outage_;
  ProduceStats stats_;
};

}  // namespace kreek::client
