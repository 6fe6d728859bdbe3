# The seed's TCP server (seed/000_a2d09c64997d3ccd.txt, section "Building a TCP server"), adapted only to
# encode with UTF-8 instead of gbk (it takes no input):  python3 server.py
from socket import *

# Create a socket
tcp_server_socket = socket(AF_INET, SOCK_STREAM)

# Local information
address = ('', 7788)

# Bind
tcp_server_socket.bind(address)

# Use the socket created by socket() (listen makes it a passive socket)
tcp_server_socket.listen(128)

# When a new client connects to the server, a new socket is made to serve that client alone
client_socket, clientAddr = tcp_server_socket.accept()

# Receive the data the other side sent
recv_data = client_socket.recv(1024)
print('Received data:', recv_data.decode('utf-8'))

# Send some data to the client
client_socket.send("thank you !".encode('utf-8'))

# Close the socket that served this client
client_socket.close()
