#include "protocol/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>

namespace corral::protocol {

namespace json = boost::json;

namespace {

void append_double(double number, std::string& out) {
  if (!std::isfinite(number))
    number = 0;
  char buffer[32];
  // 15 significant digits round-trip every value the daemon produces
  // (durations and times rounded to microseconds).
  auto size = std::snprintf(buffer, sizeof buffer, "%.15g", number);
  out.append(buffer, static_cast<std::size_t>(size));
}

void append(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::double_:
      append_double(value.get_double(), out);
      return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first)
          out.push_back(',');
        first = false;
        append(element, out);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first)
          out.push_back(',');
        first = false;
        out.append(json::serialize(json::string_view{member.key()}));
        out.push_back(':');
        append(member.value(), out);
      }
      out.push_back('}');
      return;
    }
    default:
      out.append(json::serialize(value));
      return;
  }
}

}  // namespace

std::string to_json_text(const json::value& value) {
  std::string out;
  append(value, out);
  return out;
}

}  // namespace corral::protocol
