#!/usr/bin/python3
"""A NAS's RFC 5176 listener built on pyrad's server (Debian python3-pyrad), for Ratel's
Disconnect-Request and CoA-Request.

usage: pyrad_nas.py SECRET LOG
Binds 127.0.0.1 on a free port, prints "listening PORT", and appends one JSON line per request
to LOG. How it answers depends on the Acct-Session-Id: "silent-*" never answers, "late-*"
answers only the third transmission, "gone-*" answers NAK with Error-Cause 503, anything else ACK.
"""
import hashlib, hmac, json, sys
from pyrad import packet, server
from pyrad_dictionary import dictionary


def message_authenticator_ok(raw, secret):
    """RFC 5176 3.4: HMAC-MD5 over the packet with the authenticator and the value zeroed."""
    raw = bytearray(raw)
    index, found = 20, None
    while index + 2 <= len(raw):
        kind, length = raw[index], raw[index + 1]
        if kind == 80 and length == 18:
            found = bytes(raw[index + 2:index + 18])
            raw[index + 2:index + 18] = bytes(16)
        index += max(length, 2)
    if found is None:
        return False
    raw[4:20] = bytes(16)
    return hmac.compare_digest(hmac.new(secret, bytes(raw), hashlib.md5).digest(), found)


class NAS(server.Server):
    def __init__(self, secret, log, **kwargs):
        super().__init__(**kwargs)
        # pyrad 2.1's main loop reads these even when the auth and accounting ports are off.
        self._realauthfds, self._realacctfds = [], []
        self.secret = secret
        self.log = log
        self.seen = {}

    def record(self, pkt):
        names = {}
        for key in pkt.keys():
            name = key if isinstance(key, str) else str(key)
            values = pkt[key]
            names[name] = [v.hex() if isinstance(v, bytes) else v for v in values]
        entry = {
            "code": pkt.code, "id": pkt.id, "raw": pkt.raw_packet.hex(),
            "authentic": pkt.VerifyCoARequest(), "message_authenticator": message_authenticator_ok(pkt.raw_packet, self.secret),
            "attributes": names,
        }
        with open(self.log, "a") as handle:
            handle.write(json.dumps(entry) + "\n")
        return entry

    def answer(self, pkt, ack, nak):
        entry = self.record(pkt)
        # pyrad's Packet.get() looks up raw attribute numbers; indexing takes names.
        session = pkt["Acct-Session-Id"][0] if "Acct-Session-Id" in entry["attributes"] else ""
        count = self.seen.get(entry["raw"], 0) + 1
        self.seen[entry["raw"]] = count
        if not entry["authentic"] or session.startswith("silent-") or (session.startswith("late-") and count < 3):
            return
        reply = self.CreateReplyPacket(pkt)
        reply.code = ack
        if session.startswith("gone-"):
            reply.code = nak
            reply["Error-Cause"] = 503
        pkt.fd.sendto(reply.ReplyPacket(), pkt.source)

    def HandleDisconnectPacket(self, pkt):
        self.answer(pkt, packet.DisconnectACK, packet.DisconnectNAK)

    def HandleCoaPacket(self, pkt):
        self.answer(pkt, packet.CoAACK, packet.CoANAK)


def main():
    secret, log = sys.argv[1].encode(), sys.argv[2]
    nas = NAS(secret, log, dict=dictionary(), coaport=0, auth_enabled=False, acct_enabled=False, coa_enabled=True,
              hosts={"127.0.0.1": server.RemoteHost("127.0.0.1", secret, "ratel")})
    nas.BindToAddress("127.0.0.1")
    print(f"listening {nas.coafds[0].getsockname()[1]}", flush=True)
    nas.Run()


if __name__ == "__main__":
    main()
