set -e
out=$1
ip netns add wca; ip netns add wcb
for n in wca wcb; do ip netns exec $n sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; ip -n $n link set lo up; done
ip -n wca link add va type veth peer name vb netns wcb
ip -n wca link set va address 02:00:00:00:00:01
ip -n wcb link set vb address 02:00:00:00:00:02
ip -n wca addr add 192.0.2.1/24 dev va; ip -n wcb addr add 192.0.2.2/24 dev vb
ip netns exec wca ethtool -K va tx off >/dev/null; ip netns exec wcb ethtool -K vb tx off >/dev/null
ip -n wca link set va up; ip -n wcb link set vb up
ip -n wcb route add 198.51.100.0/24 via 192.0.2.1
ip netns exec wcb sysctl -q -w net.ipv4.ip_forward=1
ip -n wca route add 198.51.100.0/24 via 192.0.2.2
sleep 1
ip netns exec wca tshark -q -i va -w $out 2>/dev/null & tp=$!
sleep 2
ip netns exec wcb python3 tcp2.py server & sp=$!
sleep 0.5
ip netns exec wca python3 tcp2.py client
wait $sp
ip netns exec wca ping -c 1 -p 73796e61636b 192.0.2.2 >/dev/null
ip netns exec wca ping -c 1 -t 1 198.51.100.1 >/dev/null || true
sleep 1
kill $tp; wait $tp || true
ip netns del wca; ip netns del wcb
