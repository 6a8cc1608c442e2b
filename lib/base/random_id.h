// random_id(): 128 random bits as 32 hex digits, from the kernel's random
// source. Names things that must never collide across machines and restarts:
// data directories, clusters, topics, broker incarnations.
#pragma once

#include <string>

namespace kreek {

std::string random_id();

}  // namespace kreek
