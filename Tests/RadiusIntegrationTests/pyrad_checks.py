#!/usr/bin/python3
"""Checks driven with pyrad (Debian python3-pyrad), a RADIUS client Ratel's authors did not write.

usage: pyrad_checks.py retransmit HOST AUTH_PORT ACCT_PORT SECRET PIN PASSWORD
       pyrad_checks.py from-source HOST AUTH_PORT SECRET [SOURCE]
       pyrad_checks.py burst HOST ACCT_PORT SECRET COUNT [ROUNDS]
Prints one JSON object of observations.
"""
import hashlib, hmac, json, socket, sys
from pyrad import packet
from pyrad_dictionary import dictionary


def sign(raw, secret):
    """Fills a zeroed Message-Authenticator (RFC 3579 3.2): HMAC-MD5 over the whole packet."""
    raw = bytearray(raw)
    index = 20
    while index < len(raw):
        kind, length = raw[index], raw[index + 1]
        if kind == 80:
            raw[index + 2:index + 18] = hmac.new(secret, bytes(raw), hashlib.md5).digest()
        index += length
    return bytes(raw)


def exchange(sock, address, raw, timeout=2.0):
    sock.settimeout(timeout)
    sock.sendto(raw, address)
    try:
        return sock.recvfrom(4096)[0]
    except socket.timeout:
        return None


def access_request(dictionary, secret, pin, password, session, proxy_states=()):
    request = packet.AuthPacket(code=packet.AccessRequest, secret=secret, dict=dictionary)
    request["User-Name"] = pin
    request["User-Password"] = request.PwCrypt(password)
    request["Called-Station-Id"] = "359888123456"
    request["Acct-Session-Id"] = session
    for state in proxy_states:
        request.AddAttribute("Proxy-State", state)
    request["Message-Authenticator"] = b"\x00" * 16
    return sign(request.RequestPacket(), secret)


def retransmit(host, auth_port, acct_port, secret, pin, password):
    secret = secret.encode()
    dictionary = dictionary_
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    raw = access_request(dictionary, secret, pin, password, "retry-1", proxy_states=(b"first", b"second"))
    first = exchange(sock, (host, auth_port), raw)
    second = exchange(sock, (host, auth_port), raw)
    reply = packet.Packet(packet=first, dict=dictionary, secret=secret) if first else None
    observations = {
        "auth_first_code": first[0] if first else None,
        "auth_identical": first is not None and first == second,
        "auth_proxy_states": [value.decode() for value in reply["Proxy-State"]] if reply else [],
        "auth_message_authenticator_first": first is not None and first[20] == 80,
    }
    # Accounting Start then Stop, each sent twice as radcli does (same Identifier and authenticator).
    for status, extra in ((1, {}), (2, {"Acct-Session-Time": 61})):
        request = packet.AcctPacket(code=packet.AccountingRequest, secret=secret, dict=dictionary)
        request["User-Name"] = pin
        request["Acct-Status-Type"] = status
        request["Acct-Session-Id"] = "retry-1"
        request["NAS-IP-Address"] = "127.0.0.1"
        for key, value in extra.items():
            request[key] = value
        raw = request.RequestPacket()
        one = exchange(sock, (host, acct_port), raw)
        two = exchange(sock, (host, acct_port), raw)
        observations["acct_%d_codes" % status] = [one[0] if one else None, two[0] if two else None]
        observations["acct_%d_identical" % status] = one is not None and one == two
    # A Stop retransmitted with a new Acct-Delay-Time is a new packet: it must not debit again.
    request = packet.AcctPacket(code=packet.AccountingRequest, secret=secret, dict=dictionary)
    request["User-Name"] = pin
    request["Acct-Status-Type"] = 2
    request["Acct-Session-Id"] = "retry-1"
    request["Acct-Session-Time"] = 61
    request["Acct-Delay-Time"] = 7
    request["NAS-IP-Address"] = "127.0.0.1"
    late = exchange(sock, (host, acct_port), request.RequestPacket())
    observations["late_stop_code"] = late[0] if late else None
    return observations


def from_source(host, auth_port, secret, source="127.0.0.2"):
    """An Access-Request from `source` (any loopback address will do on Linux): answered or not.
    127.0.0.2 is no client in the tests' configurations, so by default this is an unknown client."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    raw = access_request(dictionary_, secret.encode(), "1", "x", "stranger")
    return {"reply": exchange(sock, (host, auth_port), raw, timeout=1.0) is not None}


def burst(host, acct_port, secret, count, rounds=1):
    """Sends `count` Accounting-Requests back to back from one socket, every third with a
    Proxy-State (so replies come in two sizes), then reads what comes back: each reply must be a
    datagram of its own, answering its own request. Each further round sends new requests with
    the same Identifiers from the same socket, as a busy NAS does."""
    secret = secret.encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind(("127.0.0.1", 0))
    results = [burst_round(sock, host, acct_port, secret, count, round_) for round_ in range(rounds)]
    return {"sent": count * rounds, "answered": sum(r["answered"] for r in results),
            "wrong": sum((r["wrong"] for r in results), []), "sizes": sorted(set(sum((r["sizes"] for r in results), [])))}


def burst_round(sock, host, acct_port, secret, count, round_):
    requests = {}
    for identifier in range(count):
        request = packet.AcctPacket(code=packet.AccountingRequest, id=identifier, secret=secret, dict=dictionary_)
        request["Acct-Status-Type"] = 3
        request["Acct-Session-Id"] = "burst-%d-%d" % (round_, identifier)
        request["NAS-IP-Address"] = "127.0.0.1"
        if identifier % 3 == 0:
            request.AddAttribute("Proxy-State", b"state-%03d" % identifier)
        raw = request.RequestPacket()
        requests[identifier] = raw
        sock.sendto(raw, (host, acct_port))
    sock.settimeout(2.0)
    replies, sizes, wrong = set(), set(), []
    while len(replies) < count:
        try:
            reply = sock.recvfrom(65535)[0]
        except socket.timeout:
            break
        sizes.add(len(reply))
        identifier = reply[1]
        raw = requests.get(identifier)
        declared = int.from_bytes(reply[2:4], "big")
        expected = hashlib.md5(reply[0:4] + raw[4:20] + reply[20:] + secret).digest() if raw else None
        if reply[0] != 5 or declared != len(reply) or reply[4:20] != expected:
            wrong.append(identifier)
        replies.add(identifier)
    return {"sent": count, "answered": len(replies), "wrong": wrong, "sizes": sorted(sizes)}


dictionary_ = dictionary()
if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "retransmit":
        host, auth, acct, secret, pin, password = arguments
        result = retransmit(host, int(auth), int(acct), secret, pin, password)
    elif command == "burst":
        host, acct, secret, count = arguments[:4]
        result = burst(host, int(acct), secret, int(count), int(arguments[4]) if len(arguments) > 4 else 1)
    elif command == "from-source":
        host, auth, secret = arguments[:3]
        result = from_source(host, int(auth), secret, *arguments[3:4])
    else:
        sys.exit("unknown command " + command)
    print(json.dumps(result))
