#!/usr/bin/python3
"""A real SMTP server for the notify tests (Debian's python3-aiosmtpd).

Listens on 127.0.0.1:PORT with STARTTLS required (or implicit TLS with --implicit-tls) and
AUTH LOGIN/PLAIN against one user. Each accepted message is written to MAILDIR/<n>.eml as
"X-Envelope-From/To", "X-Auth-Login" (login and mechanism) and "X-TLS" lines followed by the message as received; the
file appears atomically (written to a temp name, then renamed).
"""
import argparse
import os
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir, implicit_tls):
        self.maildir = maildir
        self.implicit_tls = implicit_tls  # the listener wraps every socket in TLS
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        tmp = os.path.join(self.maildir, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            for rcpt in envelope.rcpt_tos:
                f.write(b"X-Envelope-To: " + rcpt.encode() + b"\r\n")
            login = session.auth_data if isinstance(session.auth_data, bytes) else b""
            f.write(b"X-Auth-Login: " + login + b"\r\n")
            f.write(b"X-TLS: " + (b"yes" if session.ssl or self.implicit_tls else b"no") + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.maildir, f"{n}.eml"))
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (mechanism in ("LOGIN", "PLAIN") and isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user and auth_data.password == self.password)
        return AuthResult(success=ok, handled=False, auth_data=(auth_data.login + b" " + mechanism.encode()) if ok else None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--implicit-tls", action="store_true")
    args = p.parse_args()
    with open(args.password_file) as f:
        password = f.read().strip()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    common = dict(hostname="127.0.0.1", port=args.port, authenticator=Authenticator(args.user, password),
                  auth_required=True, server_hostname="localhost")
    if args.implicit_tls:
        # aiosmtpd 1.4 does not count implicit TLS for auth_require_tls; the socket is TLS anyway.
        controller = Controller(Handler(args.maildir, True), ssl_context=ctx, auth_require_tls=False, **common)
    else:
        controller = Controller(Handler(args.maildir, False), tls_context=ctx, require_starttls=True,
                                auth_require_tls=True, **common)
    controller.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
