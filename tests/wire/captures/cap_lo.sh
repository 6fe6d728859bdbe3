set -e
out=$1; offload=$2
ip netns add wirecap
ip -n wirecap link set lo up
if [ "$offload" = off ]; then ip netns exec wirecap ethtool -K lo tx off >/dev/null; fi
ip netns exec wirecap tshark -q -i lo -w $out -f "tcp or icmp" 2>/dev/null & tp=$!
sleep 2
ip netns exec wirecap python3 tcp.py
ip netns exec wirecap ping -c 1 -p 73796e61636b 127.0.0.1 >/dev/null
sleep 1
kill $tp; wait $tp || true
ip netns del wirecap
