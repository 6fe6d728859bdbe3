// The README's example (tests/docs/readme_example.sh keeps the two identical).
#include <synack/synack.hpp>

synack::task<> client(synack::stack<synack::link::tun>& net) {
  auto s = co_await net.connect({synack::wire::ipv4_address{192, 0, 2, 1}, 7788}).or_throw();
  co_await s.send(synack::as_bytes("hello")).or_throw();
  std::array<std::byte, 1024> buf;
  auto data = co_await s.recv(buf).or_throw(); // the filled part; empty at EOF
  fmt::print("received: {}\n", synack::as_chars(data));
  co_await s.close().or_throw(); // FIN, then the 4-way close
}

int main() {
  synack::event_loop loop;
  auto tun = synack::link::tun::open(loop); // tun synack0: we are 192.0.2.2, the kernel 192.0.2.1
  if (!tun) {
    // The message says why, e.g. "not permitted: needs CAP_NET_ADMIN ...".
    fmt::print(stderr, "cannot open the tun device: {}\n", tun.error().message());
    return 1;
  }
  synack::stack net{loop, std::move(*tun)};
  try {
    loop.run_until(client(net));
  } catch (const std::system_error& e) { // what or_throw() throws: "synack: connect: Connection refused"
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
}
