"""The RADIUS attributes the pyrad scripts name, as a pyrad Dictionary (it reads only files)."""
import os, tempfile
from pyrad.dictionary import Dictionary

ATTRIBUTES = """
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE Service-Type 6 integer
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE Class 25 octets
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE Called-Station-Id 30 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Proxy-State 33 octets
ATTRIBUTE Acct-Status-Type 40 integer
ATTRIBUTE Acct-Delay-Time 41 integer
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE Acct-Session-Time 46 integer
ATTRIBUTE Event-Timestamp 55 integer
ATTRIBUTE Message-Authenticator 80 octets
ATTRIBUTE Error-Cause 101 integer
"""


def dictionary():
    with tempfile.NamedTemporaryFile("w", suffix=".dict", delete=False) as handle:
        handle.write(ATTRIBUTES)
    try:
        return Dictionary(handle.name)
    finally:
        os.unlink(handle.name)
