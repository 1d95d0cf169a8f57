#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace corral::protocol {

/// Serializes `value` like boost::json::serialize, except that doubles are
/// written in plain decimal form ("12.5" rather than "1.25E1"), so replies
/// read well by eye. Non-finite doubles, which JSON cannot express, are
/// written as 0.
std::string to_json_text(const boost::json::value& value);

}  // namespace corral::protocol
