#!/usr/bin/env python3
"""The seed's simple echo server, in Python 3: answers each line it receives on port 50000."""
import socket

HOST = ''
PORT = 50000
BACKLOG = 5
SIZE = 1024

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((HOST, PORT))
    server.listen(BACKLOG)
    while True:
        client, address = server.accept()
        with client:
            while True:
                data = client.recv(SIZE)
                if not data:
                    break
                client.sendall(data)
