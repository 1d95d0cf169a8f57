#include "actors/client_table.hpp"

#include <algorithm>
#include <cmath>

namespace corral::actors {

namespace {

constexpr auto failed_login_log_interval = std::chrono::seconds{1};

// Drops the entry of `entries` seen least recently, by `seen_at`.
template <class Map, class SeenAt>
void drop_least_recent(Map& entries, SeenAt seen_at) {
  auto oldest = std::min_element(entries.begin(), entries.end(),
                                 [&](const auto& a, const auto& b) {
                                   return seen_at(a.second) < seen_at(b.second);
                                 });
  if (oldest != entries.end())
    entries.erase(oldest);
}

}  // namespace

token_bucket::token_bucket(double rate_per_sec, double burst,
                           client_clock::time_point now)
    : rate_per_sec_(rate_per_sec),
      burst_(burst),
      tokens_(burst),
      updated_(now) {
  // nop
}

void token_bucket::refill(client_clock::time_point now) {
  if (now <= updated_)
    return;
  auto elapsed = std::chrono::duration<double>(now - updated_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_per_sec_);
  updated_ = now;
}

std::optional<std::chrono::milliseconds> token_bucket::take(
    client_clock::time_point now) {
  refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::nullopt;
  }
  auto wait_ms = std::ceil((1.0 - tokens_) / rate_per_sec_ * 1000.0);
  return std::chrono::milliseconds{
      std::max<std::int64_t>(1, static_cast<std::int64_t>(wait_ms))};
}

client_table::client_table(std::uint64_t rate_per_sec, std::uint64_t burst,
                           std::size_t max_clients)
    : rate_per_sec_(rate_per_sec),
      burst_(burst),
      max_clients_(std::max<std::size_t>(1, max_clients)) {
  // nop
}

client_table::client_entry& client_table::entry_of(
    const std::string& client, client_clock::time_point now) {
  auto found = clients_.find(client);
  if (found == clients_.end()) {
    if (clients_.size() >= max_clients_)
      drop_least_recent(clients_,
                        [](const client_entry& x) { return x.last_seen; });
    found = clients_.emplace(client, client_entry{}).first;
  }
  found->second.last_seen = now;
  return found->second;
}

std::optional<std::chrono::milliseconds> client_table::admit(
    const std::string& client, client_clock::time_point now) {
  if (rate_per_sec_ == 0 || burst_ == 0)
    return std::nullopt;
  std::lock_guard<std::mutex> guard{mutex_};
  auto& entry = entry_of(client, now);
  if (!entry.bucket)
    entry.bucket.emplace(static_cast<double>(rate_per_sec_),
                         static_cast<double>(burst_), now);
  return entry.bucket->take(now);
}

void client_table::count_rejection(const std::string& client,
                                   std::string_view name) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& entry = entry_of(client, client_clock::now());
  entry.rejections[std::string{name}] += 1;
}

std::map<std::string, std::map<std::string, std::uint64_t>>
client_table::rejections() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::map<std::string, std::map<std::string, std::uint64_t>> result;
  for (const auto& [client, entry] : clients_)
    if (!entry.rejections.empty())
      result[client] = entry.rejections;
  return result;
}

std::optional<std::uint64_t> client_table::log_failed_login(
    const std::string& peer, client_clock::time_point now) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    if (peers_.size() >= max_clients_)
      drop_least_recent(peers_,
                        [](const peer_entry& x) { return x.last_logged; });
    peers_.emplace(peer, peer_entry{now, 0});
    return std::uint64_t{0};
  }
  auto& entry = found->second;
  if (now - entry.last_logged < failed_login_log_interval) {
    entry.suppressed += 1;
    return std::nullopt;
  }
  auto suppressed = entry.suppressed;
  entry.last_logged = now;
  entry.suppressed = 0;
  return suppressed;
}

std::size_t client_table::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return clients_.size();
}

}  // namespace corral::actors
