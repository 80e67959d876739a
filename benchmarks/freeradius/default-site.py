#!/usr/bin/env python3
"""Turns a copy of Debian's /etc/freeradius/3.0 into the second FreeRADIUS baseline of
radius-compare.sh: the `default` virtual server as Debian ships it (authorize: filter_username,
preprocess, chap, mschap, digest, suffix, eap, files, expiration, logintime, pap; preacct:
preprocess, acct_unique, suffix, files; accounting: detail, unix, exec, attr_filter), with only
what the benchmark needs changed and the issue's tuning applied, as for the minimal configuration
in this folder: two worker threads, 4 MiB socket buffers.

Changed: the client (the load generator on 127.0.0.1), the ports (IPv4 only), writable folders
inside the copy, no switch to the `freerad` user (the copy belongs to whoever runs the benchmark),
and no `inner-tunnel` server (EAP only; its fixed port could clash).

usage: default-site.py CONFIG_DIR SECRET AUTH_PORT ACCT_PORT"""
import os
import re
import sys

directory, secret, auth_port, acct_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def edit(path, change):
    with open(path) as file:
        text = file.read()
    changed = change(text)
    if changed == text:
        sys.exit(f"default-site.py: nothing to change in {path}: not the configuration this script knows")
    with open(path, "w") as file:
        file.write(changed)


def substitute(pattern, replacement, count=0):
    """A change that must match: a Debian release that moved the line stops the run here."""
    def change(text):
        changed, made = re.subn(pattern, replacement, text, count=count, flags=re.MULTILINE)
        if made == 0:
            sys.exit(f"default-site.py: no line matches {pattern!r}")
        return changed
    return change


radiusd = os.path.join(directory, "radiusd.conf")
for pattern, replacement in [
    (r"^logdir = .*$", f"logdir = {directory}/log"),
    (r"^run_dir = .*$", f"run_dir = {directory}/run"),
    (r"^radacctdir = .*$", f"radacctdir = {directory}/radacct"),
    (r"^(\s*)(user|group) = freerad$", r"\1# \2 = freerad"),
    (r"^(\s*)start_servers = \d+$", r"\1start_servers = 2"),
    (r"^(\s*)max_servers = \d+$", r"\1max_servers = 2"),
    (r"^(\s*)min_spare_servers = \d+$", r"\1min_spare_servers = 2"),
    (r"^(\s*)max_spare_servers = \d+$", r"\1max_spare_servers = 2"),
    (r"^#(\s*)max_queue_size = 65536$", r"\1max_queue_size = 65536"),
]:
    edit(radiusd, substitute(pattern, replacement))

with open(os.path.join(directory, "clients.conf"), "w") as clients:
    clients.write(f"client bench {{\n\tipaddr = 127.0.0.1\n\tsecret = {secret}\n"
                  "\trequire_message_authenticator = no\n}\n")


def listeners(text):
    """The shipped site listens on every address with `port = 0` (the services' ports): auth then
    acct on IPv4, then the same on IPv6. The IPv4 pair gets the benchmark's ports and the larger
    buffer; the IPv6 pair is left out, as the generator speaks IPv4."""
    blocks = re.split(r"(?m)^(?=listen \{)", text)
    ports = iter([auth_port, acct_port])
    kept = []
    for block in blocks:
        if not block.startswith("listen {"):
            kept.append(block)
            continue
        end = block.index("\n}\n") + 3
        body, rest = block[:end], block[end:]
        if re.search(r"(?m)^\s*ipv6addr = ", body):
            kept.append(rest)
            continue
        body = re.sub(r"(?m)^(\s*)port = 0$", lambda m: f"{m.group(1)}port = {next(ports)}\n"
                      f"{m.group(1)}recv_buff = 4194304", body, count=1)
        kept.append(body + rest)
    if next(ports, None) is not None:
        sys.exit("default-site.py: the default site has fewer than two IPv4 listeners")
    return "".join(kept)


edit(os.path.join(directory, "sites-available", "default"), listeners)
os.remove(os.path.join(directory, "sites-enabled", "inner-tunnel"))
for folder in ("log", "run", "radacct"):
    os.makedirs(os.path.join(directory, folder), exist_ok=True)
