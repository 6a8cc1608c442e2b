// The client module's face: connections, cluster metadata and routing, the
// producer, the consumer and topic administration. Blocking I/O, no libuv:
// the command-line tools are simple sequential programs.
#pragma once

#include "client/admin.h"
#include "client/broker_connection.h"
#include "client/cluster.h"
#include "client/consumer.h"
#include "client/interrupt.h"
#include "client/metadata.h"
#include "client/producer.h"
