// Tests of the token bucket and the shared per-client table, with time
// passed in so that no test sleeps.

#include "actors/client_table.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

namespace corral::actors {
namespace {

using namespace std::chrono_literals;

const client_clock::time_point start{};

}  // namespace

BOOST_AUTO_TEST_SUITE(client_table_test)

BOOST_AUTO_TEST_CASE(bucket_allows_burst_then_waits) {
  token_bucket bucket{10.0, 3.0, start};
  BOOST_TEST(!bucket.take(start).has_value());
  BOOST_TEST(!bucket.take(start).has_value());
  BOOST_TEST(!bucket.take(start).has_value());
  auto wait = bucket.take(start);
  BOOST_TEST_REQUIRE(wait.has_value());
  // 10 tokens a second: the next one is 100 ms away.
  BOOST_TEST(wait->count() == 100);
}

BOOST_AUTO_TEST_CASE(bucket_refills_at_rate) {
  token_bucket bucket{10.0, 2.0, start};
  bucket.take(start);
  bucket.take(start);
  BOOST_TEST(bucket.take(start + 50ms).value_or(0ms).count() == 50);
  BOOST_TEST(!bucket.take(start + 100ms).has_value());
  BOOST_TEST(bucket.take(start + 100ms).has_value());
}

BOOST_AUTO_TEST_CASE(bucket_never_exceeds_burst) {
  token_bucket bucket{100.0, 2.0, start};
  auto later = start + 1h;
  BOOST_TEST(!bucket.take(later).has_value());
  BOOST_TEST(!bucket.take(later).has_value());
  BOOST_TEST(bucket.take(later).has_value());
}

BOOST_AUTO_TEST_CASE(bucket_ignores_clock_going_back) {
  token_bucket bucket{1.0, 1.0, start + 10s};
  BOOST_TEST(!bucket.take(start + 10s).has_value());
  BOOST_TEST(bucket.take(start).has_value());
}

BOOST_AUTO_TEST_CASE(table_buckets_per_client) {
  client_table table{1, 2};
  BOOST_TEST(!table.admit("alice", start).has_value());
  BOOST_TEST(!table.admit("alice", start).has_value());
  BOOST_TEST(table.admit("alice", start).has_value());
  BOOST_TEST(!table.admit("bob", start).has_value());
}

BOOST_AUTO_TEST_CASE(table_zero_disables_limit) {
  const std::pair<std::uint64_t, std::uint64_t> settings[] = {{0, 200},
                                                              {100, 0}};
  for (auto [rate, burst] : settings) {
    BOOST_TEST_CONTEXT("rate " << rate << " burst " << burst) {
      client_table table{rate, burst};
      bool limited = false;
      for (int i = 0; i < 1000; ++i)
        limited = limited || table.admit("alice", start).has_value();
      BOOST_TEST(!limited);
    }
  }
}

BOOST_AUTO_TEST_CASE(table_counts_rejections) {
  client_table table{1, 1};
  table.count_rejection("alice", "RATE_LIMITED");
  table.count_rejection("alice", "RATE_LIMITED");
  table.count_rejection("bob", "SESSION_NOT_FOUND");
  auto counts = table.rejections();
  BOOST_TEST(counts.size() == 2u);
  BOOST_TEST(counts["alice"]["RATE_LIMITED"] == 2u);
  BOOST_TEST(counts["bob"]["SESSION_NOT_FOUND"] == 1u);
}

BOOST_AUTO_TEST_CASE(table_drops_least_recent_client) {
  client_table table{1, 1, 2};
  table.admit("first", start);
  table.admit("second", start + 1ms);
  table.admit("first", start + 2ms);
  table.admit("third", start + 3ms);
  BOOST_TEST(table.size() == 2u);
  // "first" was seen recently and kept its empty bucket.
  BOOST_TEST(table.admit("first", start + 4ms).has_value());
  // "second" was dropped, so it starts with a full bucket.
  BOOST_TEST(!table.admit("second", start + 5ms).has_value());
  BOOST_TEST(table.size() == 2u);
}

BOOST_AUTO_TEST_CASE(failed_login_log_rate_limited) {
  client_table table{1, 1};
  BOOST_TEST(table.log_failed_login("10.0.0.1", start).value_or(99) == 0u);
  BOOST_TEST(!table.log_failed_login("10.0.0.1", start + 100ms).has_value());
  BOOST_TEST(!table.log_failed_login("10.0.0.1", start + 900ms).has_value());
  // Another peer is logged at once.
  BOOST_TEST(table.log_failed_login("10.0.0.2", start).has_value());
  // A second later the line carries the two suppressed failures.
  BOOST_TEST(table.log_failed_login("10.0.0.1", start + 1s).value_or(99) == 2u);
  BOOST_TEST(!table.log_failed_login("10.0.0.1", start + 1500ms).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace corral::actors
