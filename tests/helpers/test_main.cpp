// The one Boost.Test main shared by every test executable; the suites are
// the other files of each executable.
#define BOOST_TEST_MODULE corral
#include <boost/test/unit_test.hpp>
