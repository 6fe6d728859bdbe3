import socket, threading, time, sys
mode = sys.argv[1]
if mode == "server":
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("192.0.2.2", 7788)); srv.listen(1)
    c, a = srv.accept()
    d = c.recv(1024)
    time.sleep(0.2)
    c.close()
    time.sleep(0.5)
else:
    cl = socket.socket(); cl.bind(("192.0.2.1", 5000)); cl.connect(("192.0.2.2", 7788))
    time.sleep(0.1)
    cl.sendall(b"hello, synack\n")
    time.sleep(0.5)
    cl.close()
    time.sleep(0.2)
    r = socket.socket(); r.bind(("192.0.2.1", 5001))
    try: r.connect(("192.0.2.2", 7789))
    except Exception as e: print("refused", e)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("192.0.2.1", 5002))
    u.sendto(b"synack?", ("192.0.2.2", 9)); time.sleep(0.1)
