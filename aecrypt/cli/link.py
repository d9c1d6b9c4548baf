"""`aecrypt send | receive | certs`: the paper's IoT link over MQTT. `send` seals images as `encrypt` does and
publishes them until each is acknowledged; `receive` runs the embedded broker (or uses any other) and checks,
decrypts, decodes and classifies what arrives; `certs` makes a throwaway CA to try TLS on loopback."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from aecrypt import UsageError
from aecrypt.cli.packets import add_endpoint, add_sealing, receiver, sealed

SUMMARY = "link: send, receive, certs"
log = logging.getLogger("aecrypt")


def _client_tls(args):
    from aecrypt.link.addresses import ClientTLS

    given = (args.tls_ca, args.tls_cert, args.tls_key)
    return ClientTLS(*given) if any(given) else None


def _with_login(address, key):
    """The key's login (`link.brokerlogin`) for a broker on this machine, where an aecrypt receiver's embedded broker
    admits only it; none for a broker elsewhere, which has its own accounts (and would see the password)."""
    return dataclasses.replace(address, login=key.broker_login()) if address.is_loopback else address


def cmd_send(args) -> int:
    from aecrypt.link import mqtt
    from aecrypt.link.addresses import parse_broker
    from aecrypt.link.outbox import OTHER_KEY, Outbox

    _, packets, sender = sealed(args)  # first: bad arguments leave no outbox behind
    address = _with_login(parse_broker(args.broker, _client_tls(args)), sender.key)
    outbox = Outbox(Path(args.outbox))
    if aside := outbox.set_aside(sender.key.key_id):
        log.warning(
            f"{aside} packet(s) in {args.outbox} were sealed under another key than {args.key}: moved to "
            f"{Path(args.outbox) / OTHER_KEY}, never sent with this key (send them with their own key, or delete them)"
        )
    if outbox.restored:
        print(f"{outbox.restored} unacknowledged packet(s) left in {args.outbox} by an earlier send go first")
    report = mqtt.send(
        packets,
        address,
        args.topic,
        sender.key,
        args.timeout,
        args.rate,
        outbox=outbox,
        reseal=sender.reseal,
        progress=True,
    )
    print(
        f"sent {report.sent} packet(s) to {address.url}/{args.topic}: {report.acknowledged} acknowledged, "
        f"{report.resends} resent ({report.resealed} resealed), in {report.seconds:.1f} s"
    )
    for reason, n in report.refused_acks.items():
        log.warning(f"ignored {n} acknowledgement(s): {reason}")
    if report.acknowledged < report.sent:
        log.warning(f"{report.sent - report.acknowledged} packet(s) stay in {args.outbox}; the next send resends them")
    if report.interrupted:
        log.warning(f"stopped (Ctrl-C): {report.sent - report.acknowledged} packet(s) not acknowledged")
        return 130
    return 0 if report.acknowledged == report.sent else 1


def _embedded_broker(args, login: tuple[str, str], max_packet: int):
    """receive without --broker: the embedded broker, on TLS where --broker-cert/--broker-key are given, admitting
    only clients that log in with the key's login (`link.brokerlogin`), and no message longer than a packet the
    receiver could open."""
    from aecrypt.link.addresses import DEFAULT_PORTS, BrokerTLS
    from aecrypt.link.brokers import EmbeddedBroker

    tls = None
    if args.broker_cert or args.broker_key or args.broker_client_ca:
        if not (args.broker_cert and args.broker_key):
            raise UsageError("a TLS embedded broker needs both --broker-cert and --broker-key")
        if not args.tls_ca:
            raise UsageError("the receiver reaches its own TLS broker too: give --tls-ca (the CA of --broker-cert)")
        tls = BrokerTLS(args.broker_cert, args.broker_key, args.broker_client_ca)
    port = DEFAULT_PORTS["mqtts" if tls else "mqtt"] if args.port is None else args.port  # 0: any free port
    return EmbeddedBroker(port, tls, login, max_packet)


def cmd_receive(args) -> int:
    import contextlib
    import time

    from aecrypt import AecryptError
    from aecrypt.link.addresses import parse_broker
    from aecrypt.link.receiving import LinkReceiver

    if args.broker and (args.broker_cert or args.broker_key or args.broker_client_ca or args.port is not None):
        raise UsageError(
            "--port and --broker-cert/--broker-key/--broker-client-ca configure the embedded broker; "
            "leave them out with --broker"
        )
    tls = _client_tls(args)
    rx_ends = receiver(args)
    with contextlib.ExitStack() as stack:
        if args.broker:
            address = _with_login(parse_broker(args.broker, tls), rx_ends.key)
        else:
            login = rx_ends.key.broker_login()
            broker = stack.enter_context(_embedded_broker(args, login, rx_ends.largest_packet))
            address = broker.address(tls)
            print(f"embedded broker on {broker.url} (loopback only)", flush=True)
        rx = LinkReceiver(rx_ends, Path(args.output), address, args.topic, progress=True).start()
        ciphers = ", ".join(rx_ends.ciphers)
        print(f"receiving on {address.url}/{args.topic} ({ciphers}) into {args.output}; Ctrl-C stops", flush=True)
        failure, complete = None, False
        try:
            complete = rx.wait(args.count or 10**9, args.timeout)
        except KeyboardInterrupt:
            log.warning("stopping: finished images are written")
        except AecryptError as exc:
            failure = exc
        finally:
            time.sleep(0.2)  # the last acknowledgements
            rx.stop()
    received = rx.log
    print(
        f"received {len(received.accepted)} image(s) into {args.output} (received.csv); {received.duplicates} "
        f"duplicate(s) dropped; {received.refusals} refused"
        + (f"; {received.out_of_order} arrived behind a later one (accepted)" if received.out_of_order else "")
    )
    for reason, n in received.reasons.items():
        log.warning(f"refused {n}×: {reason}")
    if failure is not None:
        raise failure
    if args.count and not complete:
        log.warning(
            f"stopped after {args.timeout:g} s with {len(received.accepted)} of the {args.count} image(s) asked"
        )
        return 1
    return 0


def cmd_certs(args) -> int:
    from aecrypt.link.certs import make_test_pki

    pki = make_test_pki(Path(args.output))
    print(
        f"wrote a throwaway CA and certificates to {args.output} (valid 7 days, for trying TLS on loopback):\n"
        f"  broker: --broker-cert {pki.server_cert} --broker-key {pki.server_key} [--broker-client-ca {pki.ca}]\n"
        f"  clients: --tls-ca {pki.ca} [--tls-cert {pki.client_cert} --tls-key {pki.client_key}]"
    )
    return 0


def _add_mqtt(q, broker_help: str) -> None:
    q.add_argument("--broker", help=broker_help)
    q.add_argument("--topic", default="aecrypt/xray")
    q.add_argument("--tls-ca", help="TLS: the CA that signed the broker's certificate (default: the system's)")
    q.add_argument("--tls-cert", help="TLS: this client's certificate, where the broker requires one")
    q.add_argument("--tls-key", help="TLS: this client's private key (with --tls-cert)")


def register(sub) -> None:
    p = sub.add_parser(
        "send",
        help="encode (with --payload png: take as they are), encrypt and publish images over MQTT until acknowledged",
    )
    add_endpoint(p, output=False)
    add_sealing(p)
    _add_mqtt(
        p, "mqtt://HOST:PORT or mqtts://HOST:PORT (default: the embedded broker of `aecrypt receive`, 127.0.0.1:1883)"
    )
    p.add_argument("--rate", type=float, help="images per second (default: as fast as 20 in flight allow)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for every acknowledgement")
    p.add_argument(
        "--outbox",
        default="aecrypt-outbox",
        help="folder that keeps each packet until it is acknowledged; a restarted send resends what it holds "
        "(default: ./aecrypt-outbox)",
    )
    p.set_defaults(func=cmd_send)

    p = sub.add_parser(
        "receive",
        help="subscribe, check, decrypt, decode and classify packets from MQTT (without --run: PNGs, unscored)",
    )
    add_endpoint(p)
    _add_mqtt(p, "mqtt://HOST:PORT or mqtts://HOST:PORT (default: start the embedded broker on 127.0.0.1)")
    p.add_argument("--port", type=int, help="the embedded broker's port (default 1883, 8883 with TLS; 0: any free)")
    p.add_argument("--broker-cert", help="the embedded broker listens with TLS: its certificate (aecrypt certs)")
    p.add_argument("--broker-key", help="the embedded broker's private key (with --broker-cert)")
    p.add_argument("--broker-client-ca", help="the embedded broker requires client certificates signed by this CA")
    p.add_argument("--count", type=int, help="stop after this many images")
    p.add_argument("--timeout", type=float, default=3600.0, help="stop after this many seconds (Ctrl-C stops too)")
    p.set_defaults(func=cmd_receive)

    p = sub.add_parser("certs", help="a throwaway CA, broker and client certificate for trying TLS on loopback")
    p.add_argument("-o", "--output", required=True, help="an empty folder to write them into")
    p.set_defaults(func=cmd_certs)
