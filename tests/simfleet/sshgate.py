"""Socket activation for one simulated host's sshd, as Debian's ssh.socket does:
listen on ADDRESS:PORT and start `sshd -i` for each connection.

Usage: python sshgate.py ADDRESS PORT -- SSHD-COMMAND...

The sshd command (usually `nsenter ... sshd -i -f CONFIG`) runs in the host's
namespaces, so everything a session starts (shells, docker CLI, port forwards)
sees that host's loopback, while clients connect from the machine's loopback.
SIGTERM closes the listener and kills every session started from it.
"""
import os
import signal
import socket
import subprocess
import sys


def descendants(pid):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def main():
    address, port = sys.argv[1], int(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(64)
    sessions = []

    def shutdown(signum, frame):
        server.close()
        for proc in sessions:
            for pid in [proc.pid] + descendants(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        sessions = [p for p in sessions if p.poll() is None]
        sessions.append(
            subprocess.Popen(command, stdin=conn.fileno(), stdout=conn.fileno(), close_fds=True)
        )
        conn.close()


if __name__ == "__main__":
    main()
