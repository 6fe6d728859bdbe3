// examples/common/cli.hpp: a small, strict command-line parser for the example programs.
//
// Options are `--name value` or `--name=value`, and flags `--name`. Unknown options, missing
// or malformed values, numbers out of their range (with the range) and options that do not
// fit together (check()) are reported in one line on stderr and the program exits with
// status 2.
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace examples {

class cli {
public:
  cli(std::string program, std::string summary) : m_program(std::move(program)), m_summary(std::move(summary)) {}

  /// An option with a value; `set` returns an error message for a bad value, or "".
  void option(std::string name, std::string metavar, std::string help,
              std::function<std::string(std::string_view)> set) {
    m_opts.push_back({std::move(name), std::move(metavar), std::move(help), std::move(set), nullptr});
  }
  /// The usage line after "usage: " (default: "<program> [options]").
  void usage(std::string line) { m_usage = std::move(line); }

  /// A check of the options together, run after the last one is parsed; returns an error
  /// message (the program then exits with status 2), or "".
  void check(std::function<std::string()> f) { m_checks.push_back(std::move(f)); }

  /// A flag without a value.
  void flag(std::string name, std::string help, bool& target) {
    m_opts.push_back({std::move(name), "", std::move(help), nullptr, &target});
  }

  /// Parses argv; prints --help and exits 0, or prints one error line and exits 2.
  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "-h" || arg == "--help") {
        print_help();
        std::exit(0);
      }
      if (arg.substr(0, 2) != "--") fail(fmt::format("unexpected argument '{}'", arg));
      std::string_view name = arg.substr(2);
      std::optional<std::string_view> value;
      if (auto eq = name.find('='); eq != std::string_view::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const auto* o = find(name);
      if (!o) fail(fmt::format("unknown option --{} (see --help)", name));
      if (o->target) {
        if (value) fail(fmt::format("--{} takes no value", name));
        *o->target = true;
        continue;
      }
      if (!value) {
        if (i + 1 >= argc) fail(fmt::format("--{} needs a value ({})", name, o->metavar));
        value = argv[++i];
      }
      if (auto err = o->set(*value); !err.empty()) fail(fmt::format("--{} {}: {}", name, *value, err));
    }
    for (const auto& c : m_checks)
      if (auto err = c(); !err.empty()) fail(err);
  }

  [[noreturn]] void fail(const std::string& message) const {
    fmt::print(stderr, "{}: {}\n", m_program, message);
    std::exit(2);
  }

  void print_help() const {
    fmt::print("{}\n\nusage: {}\n\noptions:\n", m_summary, m_usage.empty() ? m_program + " [options]" : m_usage);
    for (const auto& o : m_opts) {
      auto lhs = o.metavar.empty() ? fmt::format("--{}", o.name) : fmt::format("--{} {}", o.name, o.metavar);
      fmt::print("  {:<26} {}\n", lhs, o.help);
    }
    fmt::print("  {:<26} {}\n", "-h, --help", "show this help and exit");
  }

private:
  struct entry {
    std::string name;
    std::string metavar;
    std::string help;
    std::function<std::string(std::string_view)> set;
    bool* target;
  };
  auto find(std::string_view name) const -> const entry* {
    for (const auto& o : m_opts)
      if (o.name == name) return &o;
    return nullptr;
  }
  std::string m_program;
  std::string m_summary;
  std::string m_usage;
  std::vector<entry> m_opts;
  std::vector<std::function<std::string()>> m_checks;
};

/// Parses an unsigned integer in [lo, hi]. A number outside the range ("70000" for a port,
/// "-1", one too large for any integer) is reported with the range, not as "not a number".
template <class T>
auto parse_number(std::string_view s, T& out, T lo, T hi) -> std::string {
  const auto out_of_range = [&] { return fmt::format("must be between {} and {}", lo, hi); };
  std::string_view digits = s;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative || (!digits.empty() && digits.front() == '+')) digits.remove_prefix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return s.empty() ? "not a number (empty)" : "not a number";
  }
  if (negative && digits.find_first_not_of('0') != std::string_view::npos) return out_of_range();
  T v{};
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec == std::errc::result_out_of_range) return out_of_range();
  if (ec != std::errc{} || p != digits.data() + digits.size()) return "not a number";
  if (v < lo || v > hi) return out_of_range();
  out = v;
  return {};
}

} // namespace examples
