# The seed's TCP client (seed/000_a2d09c64997d3ccd.txt, section "Building a TCP client"), adapted only to
# take its three inputs from the command line instead of input(), and to encode with UTF-8
# instead of gbk:  python3 client.py SERVER_IP SERVER_PORT DATA
import sys
from socket import *

# Create a socket
tcp_client_socket = socket(AF_INET, SOCK_STREAM)

# Destination information
server_ip = sys.argv[1]  # input("Please enter the server ip:")
server_port = int(sys.argv[2])  # int(input("Please enter the server port:"))

# Connect to the server
tcp_client_socket.connect((server_ip, server_port))

# Prompt the user to enter the data
send_data = sys.argv[3]  # input("Please enter the data to send:")

tcp_client_socket.send(send_data.encode("utf-8"))

# Receive the data the other side sent, at most 1024 bytes
recvData = tcp_client_socket.recv(1024)
print('Received data:', recvData.decode('utf-8'))

# Close the socket
tcp_client_socket.close()
