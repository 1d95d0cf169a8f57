#include "runtime/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace corral {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("corral");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  // Warnings and errors reach the terminal or journal at once; routine
  // lines are flushed by the stream's own buffering.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace corral
