// tests/link/root_support.cpp: the test program's exit status when root tests were skipped,
// and the io_uring check.
//
// test_link mixes unprivileged tests (sim_link, decorators) with root tests (tun, AF_PACKET in
// namespaces). When the root tests could not run, a run in which nothing failed ends with 77,
// which CTest reports as skipped: never a pass that hides tests that did not run
// (docs/examples.md, "The integration tests": a test that cannot run says why and is
// reported skipped). A failure keeps its failing status.
#include <doctest/doctest.h>

#include <liburing.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "netns.hpp"

namespace {

void exit_skipped() { std::_Exit(77); }

struct root_skip_listener : doctest::IReporter {
  explicit root_skip_listener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& s) override {
    if (link_test::root_tests_skipped && s.numTestCasesFailed == 0 && s.numAssertsFailed == 0) {
      std::fprintf(stderr, "test_link: the root tests were skipped; exiting with 77 (skipped)\n");
      std::fflush(nullptr);
      std::atexit(exit_skipped); // after doctest's reporters have printed the summary
    }
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

/// Exits with 77 before any test if this process may not create an io_uring at all.
auto check_io_uring_or_skip() -> bool {
  io_uring ring{};
  const int r = io_uring_queue_init(8, &ring, 0);
  if (r < 0) {
    std::fprintf(stderr, "test_link: io_uring setup refused (%s); skipping the link tests\n", std::strerror(-r));
    std::fflush(stderr);
    std::_Exit(77);
  }
  io_uring_queue_exit(&ring);
  return true;
}
const bool io_uring_available = check_io_uring_or_skip();

} // namespace

REGISTER_LISTENER("root_skip", 1, root_skip_listener);
