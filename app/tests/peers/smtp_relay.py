"""A real SMTP relay on loopback for app/tests/mail_tls.rs (aiosmtpd).

Usage: smtp_relay.py MODE LOG [CERT KEY]
  MODE starttls: offers STARTTLS and refuses AUTH (and mail) before it;
       plain:    offers no STARTTLS and would take AUTH and mail in clear;
       implicit: TLS from the first byte (smtps).
Prints the port it listens on, then appends one JSON line per event to LOG: every AUTH
attempt and every accepted message, with whether the session was under TLS.
"""

import asyncio
import json
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = b"relay"
PASSWORD = b"mot-de-passe-du-relais"


def main() -> None:
    # The plain mode requires AUTH without TLS on purpose: aiosmtpd's warning says so.
    warnings.simplefilter("ignore")
    mode, log = sys.argv[1], sys.argv[2]
    context = None
    if mode in ("starttls", "implicit"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])

    def record(event: dict) -> None:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")

    def under_tls(server, session) -> bool:
        # STARTTLS sets `session.ssl`; implicit TLS shows on the transport only.
        return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER,
            PASSWORD,
        )
        record({"event": "auth", "ok": ok, "tls": under_tls(server, session)})
        return AuthResult(success=ok)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            record(
                {
                    "event": "mail",
                    "tls": under_tls(server, session),
                    "authenticated": bool(session.authenticated),
                    "to": envelope.rcpt_tos,
                    "content": envelope.content.decode("utf-8", "replace"),
                }
            )
            return "250 OK"

    def factory() -> SMTP:
        return SMTP(
            Handler(),
            hostname="localhost",
            tls_context=context if mode == "starttls" else None,
            require_starttls=mode == "starttls",
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=mode == "starttls",
        )

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory, "127.0.0.1", 0, ssl=context if mode == "implicit" else None
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
