// The cli module's face: shared flags and run_main, and the bodies of the
// ktopic, kproduce and kconsume tools (plus their building blocks).
#pragma once

#include "cli/checkpoint.h"
#include "cli/common.h"
#include "cli/consume_command.h"
#include "cli/line_record.h"
#include "cli/line_splitter.h"
#include "cli/output_format.h"
#include "cli/output_writer.h"
#include "cli/produce_command.h"
#include "cli/start_position.h"
#include "cli/topic_command.h"
