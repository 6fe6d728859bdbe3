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
  synack::stack net{loop, synack::link::tun::open(loop).value()}; // tun synack0: we are 192.0.2.2
  loop.run_until(client(net));
}
