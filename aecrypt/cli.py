"""`aecrypt` command line: sweep, results, add, data, fetch, book, assignments, grade. Errors print without
a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import AecryptError, packets, paths
from .profiles import PROFILES, get_profile


def _grid_for(args) -> Path:
    return Path(args.grid) if args.grid else paths.GRIDS / get_profile(args.profile).default_grid


def cmd_sweep(args) -> int:
    from .profiles import parse_seeds
    from .sweep import run_sweep

    report = run_sweep(
        args.profile,
        _grid_for(args),
        args.data,
        args.workers,
        args.scheduler,
        args.quiet,
        Path(args.results) if args.results else None,
        seeds=parse_seeds(args.seeds) if args.seeds else None,
        data_seed=args.data_seed,
        references=not args.no_references,
    )
    if report.failures:
        print(f"{len(report.failures)} run(s) failed:", file=sys.stderr)
        for label, error in report.failures:
            print(f"  {label}: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_results(args) -> int:
    from .sweep import collect, write_summary

    path = write_summary(args.profile, Path(args.results) if args.results else None)
    table = collect(args.profile, Path(args.results) if args.results else None)
    print(table["status"].value_counts().to_string())
    print(f"table: {path}")
    return 0


def cmd_add(args) -> int:
    from .sweep import add_run

    rid = add_run(
        Path(args.folder),
        args.profile,
        Path(args.notebook) if args.notebook else None,
        Path(args.results) if args.results else None,
    )
    print(f"added run {rid} to {paths.summary_csv(args.profile, Path(args.results) if args.results else None)}")
    return 0


def cmd_data(args) -> int:
    from .data import fit_size, load_dataset

    profile = get_profile(args.profile)
    spec = args.data or profile.default_data
    size_note = ""
    if args.size is None:  # the size a sweep would run at: the profile's, or smaller when the images are
        size, size_note = fit_size(profile.size, spec)
    else:
        size = args.size  # 0 is an error, not "default"
    n = args.n_images if args.n_images is not None else profile.n_images
    ds = load_dataset(spec, size, n, args.seed)
    summary = ds.summary()
    if size_note:
        summary["notes"] = [size_note] + summary["notes"]
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def cmd_fetch(args) -> int:
    from . import fetch

    if args.source == "medmnist":
        spec = fetch.fetch_medmnist(args.name, args.size, Path(args.to), args.mirror, args.quiet)
        missing = None
    else:
        from .data.catalogue import parse_parts

        spec, missing = fetch.fetch_nih(parse_parts(args.parts), Path(args.to), args.labels, args.mirror, args.quiet)
    if missing:
        print(f"aecrypt: one step left: {missing}", file=sys.stderr)
    print(f"data spec: {spec}\nnext: aecrypt data --data {spec} --summary, or make book PROFILE=real DATA={spec}")
    return 0


def cmd_assignments(args) -> int:
    from .assignments import BUILD, assign

    for name, zip_path in assign(Path(args.out) if args.out else BUILD).items():
        print(f"{name}: student notebook in {zip_path.parent.parent / 'student'}, autograder {zip_path}")
    return 0


def cmd_grade(args) -> int:
    from .assignments import BUILD, grade

    out = Path(args.out) if args.out else BUILD
    table = grade(Path(args.submissions), out, args.timeout)
    print(table.drop(columns=["message"]).to_string(index=False))
    print(f"grades: {out / 'grades.csv'}")
    return 0


def cmd_audit(args) -> int:
    from .audit import run_audit

    path = run_audit(args.profile, Path(args.results) if args.results else None, args.force, args.quiet)
    print(f"audit: {path}")
    return 0


def cmd_keygen(args) -> int:
    from .keys import generate

    key = generate(Path(args.output))
    print(f"wrote {args.output} (owner-only, key id {key.key_id.hex()}); keep it secret, copy it to the receiver")
    return 0


def cmd_runs(args) -> int:
    from .endpoints import list_runs

    table = list_runs(args.profile, Path(args.results) if args.results else None)
    if table.empty:
        print(f"no finished runs in profile {args.profile!r}; run `aecrypt sweep --profile {args.profile}` first")
        return 0
    print(table.to_string(index=False))
    return 0


PAPER_WARNING = (
    "the paper's cipher is not secure: it cannot detect tampering or a wrong key, and one known image gives its "
    "key away"
)


def _endpoint(args, insecure_ok: bool):
    """The run and key an encrypt/decrypt uses, and the paper cipher's key image where it is allowed."""
    from . import endpoints, keys

    if args.cipher_paper and not args.insecure:
        raise AecryptError(f"{PAPER_WARNING}; add --insecure to use it for comparison")
    key = keys.load(Path(args.key))
    run = endpoints.TrainedRun.load(
        endpoints.find_run(args.run, args.profile, Path(args.results) if args.results else None)
    )
    key_image = None
    if args.insecure and insecure_ok:
        print(f"aecrypt: warning: {PAPER_WARNING}", file=sys.stderr)
        key_image = endpoints.paper_key_image(run, key, Path(args.key_image) if args.key_image else None)
    return run, key, key_image


def _sealed(args) -> tuple[list[str], list[bytes]]:
    """encrypt / send: where each image came from, and one packet per image."""
    from .endpoints import Sender

    args.cipher_paper = args.cipher == "paper"
    quantisation = _payload(args)
    run, key, key_image = _endpoint(args, insecure_ok=args.cipher_paper)
    sources, images = _inputs(args, run.size)
    return sources, Sender(run, key, args.cipher, quantisation, args.sender, key_image).seal(images)


def _receiver(args):
    """decrypt / receive: the AEAD ciphers, and the paper's only with --insecure."""
    from .endpoints import AEAD_CIPHERS, Receiver

    args.cipher_paper = False
    run, key, key_image = _endpoint(args, insecure_ok=True)
    return Receiver(run, key, AEAD_CIPHERS + (("paper",) if args.insecure else ()), key_image)


def _payload(args) -> str:
    """--payload latent (quantised as --quantise) or png (the image itself; no --quantise then)."""
    if args.payload == "png":
        if args.quantise is not None:
            raise AecryptError("--quantise applies to latents; --payload png sends the image itself as a PNG")
        if args.cipher == "paper":
            raise AecryptError("--payload png needs an AEAD cipher (aes-gcm or chacha20), not the paper's")
        return "png"
    return args.quantise or "float32"


def _inputs(args, size: int):
    """The images to send: files and folders given, or the images of a data spec (--data, capped by
    --n-images); one of the two."""
    if args.data and args.images:
        raise AecryptError("give image files/folders or --data SPEC, not both")
    if not args.data:
        return _images(args.images, size)
    from .data import load_dataset

    ds = load_dataset(args.data, size, args.n_images)
    return [f"{ds.spec} #{i}" for i in range(len(ds))], ds.images


def _images(paths_given: list[str], size: int):
    import numpy as np

    from .data import readers

    files = []
    for given in map(Path, paths_given):
        if given.is_dir():
            files += sorted(p for p in given.rglob("*") if p.suffix.lower() in readers.IMAGE_SUFFIXES)
        elif given.is_file():
            files.append(given)
        else:
            raise AecryptError(f"{given}: no such image file or folder")
    if not files:
        raise AecryptError("no images given (files or folders of PNG, JPEG, BMP or TIFF, or --data SPEC)")
    try:
        return [str(f) for f in files], np.stack([readers.read_image(f, size) for f in files])
    except readers.UnreadableImage as exc:
        raise AecryptError(f"cannot read image {exc}") from None


def cmd_encrypt(args) -> int:
    sources, sealed = _sealed(args)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    from .packets import parse

    for source, packet in zip(sources, sealed, strict=True):
        target = out / f"{parse(packet).header.image_hex}.aecp"  # an opaque name: never the input's
        target.write_bytes(packet)
        print(f"{source} -> {target} ({len(packet)} bytes)")
    return 0


def cmd_decrypt(args) -> int:
    import pandas as pd

    from . import codecs

    receiver = _receiver(args)
    batch = []
    for name in args.packets:
        path = Path(name)
        if not path.is_file():
            raise AecryptError(f"{path}: no such packet file")
        batch.append(path.read_bytes())
    results = receiver.receive(batch, names=args.packets)  # every packet is checked before anything is written
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in results:
        name = f"{r.header.image_hex}.png"
        codecs.save_png(r.image, out / name)
        rows.append(
            {"image_id": r.header.image_hex, "sender_id": r.header.sender_id.hex(), "sequence": r.header.sequence}
            | {"cipher": r.header.cipher, "quantisation": r.header.quantisation, "score": round(r.score, 6)}
            | {"image": name}
        )
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    print(f"{len(rows)} image(s) and scores.csv in {out}")
    return 0


def _client_tls(args):
    from . import link

    given = (args.tls_ca, args.tls_cert, args.tls_key)
    return link.ClientTLS(*given) if any(given) else None


def cmd_send(args) -> int:
    from . import link

    address = link.parse_broker(args.broker, _client_tls(args))
    _, sealed = _sealed(args)
    report = link.send(sealed, address, args.topic, args.timeout, args.rate)
    print(
        f"sent {report.sent} packet(s) to {address.url}/{args.topic}: {report.acknowledged} acknowledged, "
        f"{report.resends} resent, in {report.seconds:.1f} s"
    )
    if report.interrupted:
        missing = report.sent - report.acknowledged
        print(f"aecrypt: stopped (Ctrl-C): {missing} packet(s) not acknowledged", file=sys.stderr)
        return 130
    return 0 if report.acknowledged == report.sent else 1


def _embedded_broker(args):
    """receive without --broker: the embedded broker, on TLS where --broker-cert/--broker-key are given."""
    from . import link

    tls = None
    if args.broker_cert or args.broker_key or args.broker_client_ca:
        if not (args.broker_cert and args.broker_key):
            raise AecryptError("a TLS embedded broker needs both --broker-cert and --broker-key")
        if not args.tls_ca:
            raise AecryptError("the receiver reaches its own TLS broker too: give --tls-ca (the CA of --broker-cert)")
        tls = link.BrokerTLS(args.broker_cert, args.broker_key, args.broker_client_ca)
    port = link.DEFAULT_PORTS["mqtts" if tls else "mqtt"] if args.port is None else args.port  # 0: any free port
    return link.EmbeddedBroker(port, tls)


def cmd_receive(args) -> int:
    import contextlib
    import time

    from . import link

    if args.broker and (args.broker_cert or args.broker_key or args.broker_client_ca or args.port is not None):
        raise AecryptError(
            "--port and --broker-cert/--broker-key/--broker-client-ca configure the embedded broker; "
            "leave them out with --broker"
        )
    tls = _client_tls(args)
    receiver = _receiver(args)
    with contextlib.ExitStack() as stack:
        if args.broker:
            address = link.parse_broker(args.broker, tls)
        else:
            broker = stack.enter_context(_embedded_broker(args))
            address = broker.address(tls)
            print(f"embedded broker on {broker.url} (loopback only)", flush=True)
        rx = link.LinkReceiver(receiver, Path(args.output), address, args.topic).start()
        try:
            rx.wait(args.count or 10**9, args.timeout)
        except KeyboardInterrupt:
            print("stopping: finished images are written", file=sys.stderr)
        finally:
            time.sleep(0.2)  # the last acknowledgements
            rx.stop()
    log = rx.log
    print(
        f"received {len(log.accepted)} image(s) into {args.output} (received.csv); {log.duplicates} duplicate(s) "
        f"dropped; {len(log.refused)} refused"
    )
    for reason in log.refused:
        print(f"  refused: {reason}", file=sys.stderr)
    return 0


def cmd_certs(args) -> int:
    from .certs import make_test_pki

    pki = make_test_pki(Path(args.output))
    print(
        f"wrote a throwaway CA and certificates to {args.output} (valid 7 days, for trying TLS on loopback):\n"
        f"  broker: --broker-cert {pki.server_cert} --broker-key {pki.server_key} [--broker-client-ca {pki.ca}]\n"
        f"  clients: --tls-ca {pki.ca} [--tls-cert {pki.client_cert} --tls-key {pki.client_key}]"
    )
    return 0


def cmd_book(args) -> int:
    """Build the HTML book from existing results (the sweep comes first; `make book` does both)."""
    from .book import build

    index = build(
        args.profile,
        Path(args.results) if args.results else None,
        Path(args.build) if args.build else None,
        args.force,
        args.edition,
    )
    print(f"book: {index}")
    return 0


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line, like every other aecrypt error (sub-commands inherit this class)."""

    def error(self, message: str):
        self.exit(2, f"aecrypt: error: {self.prog}: {message} (see `{self.prog} -h`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aecrypt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, data=True):
        p.add_argument("--profile", default="default", choices=list(PROFILES), help="how big each run is")
        p.add_argument("--results", help="results folder (default: results/ or $AECRYPT_RESULTS)")
        if data:
            p.add_argument("--data", help="data spec: synthetic | nih:DIR | folder:DIR | medmnist:FILE | dicom:DIR")

    p = sub.add_parser("sweep", help="run every combination of a grid (cached; resumable)")
    common(p)
    p.add_argument("--grid", help="grid file (default: the profile's, in grids/)")
    p.add_argument("--workers", type=int, help="parallel runs (default: one per core)")
    p.add_argument("--scheduler", help="dask.distributed scheduler address (tcp://host:8786) instead of local workers")
    p.add_argument(
        "--seeds",
        help="training seeds (initial weights, data order): a count N for seeds 0..N-1, or a list like 0,3,7 "
        "(default: the profile's)",
    )
    p.add_argument(
        "--data-seed",
        type=int,
        default=0,
        help="the seed of the phantoms, the train/val/test split and the paper-cipher key, fixed for the build",
    )
    p.add_argument(
        "--no-references",
        action="store_true",
        help="skip the reference runs (the best combination decoded without the cipher, once per seed)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("results", help="(re)write results/<profile>/summary.csv")
    common(p, data=False)
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("add", help="add a run made by hand with papermill to the results")
    p.add_argument("folder", help="the run's output_dir")
    p.add_argument("--notebook", help="the executed notebook papermill wrote")
    common(p, data=False)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("data", help="load a data source and print its summary as JSON")
    common(p)
    p.add_argument("--size", type=int, help="image size (default: the profile's)")
    p.add_argument("--n-images", type=int, help="cap on the number of images (default: the profile's)")
    p.add_argument("--seed", type=int, default=0, help="data seed (phantoms, sampling)")
    p.add_argument("--summary", action="store_true", help="print class and image counts (the default output)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("fetch", help="download a public chest X-ray set (the only command that uses the network)")
    sources = p.add_subparsers(dest="source", required=True)
    from .data.catalogue import MEDMNIST, MEDMNIST_SIZES

    m = sources.add_parser("medmnist", help="a MedMNIST chest X-ray set with two classes (one .npz file)")
    m.add_argument("name", help=f"the set: {', '.join(MEDMNIST)} (PneumoniaMNIST binary; ChestMNIST any finding)")
    m.add_argument("--size", type=int, default=28, choices=MEDMNIST_SIZES, help="image side (default 28)")
    n = sources.add_parser("nih", help="NIH ChestX-ray14 image archives, unpacked for the nih: data spec")
    n.add_argument("--parts", required=True, help="archives 1..12: a list (1,2), a range (1-3) or all (~45 GB)")
    n.add_argument("--labels", help="path or URL of Data_Entry_2017*.csv (NIH gives it no direct link)")
    for q in (m, n):
        q.add_argument("--to", required=True, help="folder to download into (created if missing)")
        q.add_argument("--mirror", help="download the same file names from this base URL instead of the publisher")
        q.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("assignments", help="student notebooks and autograders from notebooks/assignments (otter)")
    p.add_argument("--out", help="output folder (default: _build/assignments)")
    p.set_defaults(func=cmd_assignments)

    p = sub.add_parser("grade", help="grade a folder of submitted assignment notebooks into a CSV of scores")
    p.add_argument("submissions", help="folder of .ipynb submissions (any depth; the path names the student)")
    p.add_argument("--out", help="where the autograders are and grades.csv goes (default: _build/assignments)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per submission before it is stopped (120)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser(
        "audit", help="the cipher audit on a profile's saved models (cached): results/<profile>/audit.json"
    )
    common(p, data=False)
    p.add_argument("--force", action="store_true", help="audit again even if no run changed")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("keygen", help="a new AEAD key file (owner-only; never overwrites)")
    p.add_argument("-o", "--output", required=True, help="the key file to write")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("runs", help="list a profile's finished runs (ids, labels) to name one with --run")
    common(p, data=False)
    p.set_defaults(func=cmd_runs)

    def endpoint(q, output: bool = True):
        common(q, data=False)
        q.add_argument("--run", required=True, help="a run id (or a unique prefix of 4+ characters): aecrypt runs")
        q.add_argument("--key", required=True, help="the key file (aecrypt keygen)")
        q.add_argument("--insecure", action="store_true", help="allow the paper's cipher (no integrity, weak key)")
        q.add_argument("--key-image", help="paper cipher only: the key image file (default: derived from --key)")
        if output:
            q.add_argument("-o", "--output", required=True, help="folder to write into")

    def sealing(q):
        q.add_argument("images", nargs="*", help="image files or folders (or --data SPEC)")
        q.add_argument("--data", help="send the images of a data spec instead (synthetic, folder:DIR, nih:DIR, …)")
        q.add_argument("--n-images", type=int, help="with --data: at most this many images (stratified)")
        q.add_argument("--cipher", default="aes-gcm", choices=("aes-gcm", "chacha20", "paper"), help="default aes-gcm")
        q.add_argument(
            "--payload",
            default="latent",
            choices=("latent", "png"),
            help="latent: the encoder's output (the paper's scheme, default); png: the image itself as a PNG",
        )
        q.add_argument(
            "--quantise", choices=packets.LATENT_QUANTISATIONS, help="the latent's numbers (default float32)"
        )
        q.add_argument("--sender", default="aecrypt", help="this device's name (only its hash travels)")

    def mqtt(q, broker_help: str):
        q.add_argument("--broker", help=broker_help)
        q.add_argument("--topic", default="aecrypt/xray")
        q.add_argument("--tls-ca", help="TLS: the CA that signed the broker's certificate (default: the system's)")
        q.add_argument("--tls-cert", help="TLS: this client's certificate, where the broker requires one")
        q.add_argument("--tls-key", help="TLS: this client's private key (with --tls-cert)")

    p = sub.add_parser("encrypt", help="encode images with a run's encoder and seal each latent into a packet")
    endpoint(p)
    sealing(p)
    p.set_defaults(func=cmd_encrypt)

    p = sub.add_parser("decrypt", help="check, decrypt, decode and score packets (PNG + scores.csv)")
    endpoint(p)
    p.add_argument("packets", nargs="+", help="packet files (.aecp)")
    p.set_defaults(func=cmd_decrypt)

    p = sub.add_parser("send", help="encode, encrypt and publish images over MQTT (resends until acknowledged)")
    endpoint(p, output=False)
    sealing(p)
    mqtt(p, "mqtt://HOST:PORT or mqtts://HOST:PORT (default: the embedded broker of `aecrypt receive`, 127.0.0.1:1883)")
    p.add_argument("--rate", type=float, help="images per second (default: as fast as 20 in flight allow)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for every acknowledgement")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("receive", help="subscribe, check, decrypt, decode and classify packets from MQTT")
    endpoint(p)
    mqtt(p, "mqtt://HOST:PORT or mqtts://HOST:PORT (default: start the embedded broker on 127.0.0.1)")
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

    p = sub.add_parser("book", help="build the HTML book from a profile's results")
    common(p, data=False)
    p.add_argument("--build", help="output folder; the HTML goes to BUILD/_build/html (default: the repository)")
    p.add_argument("--force", action="store_true", help="rebuild even if no input changed since the last build")
    p.add_argument(
        "--edition",
        choices=("instructor", "student"),
        default="instructor",
        help="instructor: solutions included, collapsed (default); student: solutions removed, into _build/student",
    )
    p.set_defaults(func=cmd_book)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AecryptError as exc:
        print(f"aecrypt: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that cannot be made or written, a file that vanished: say which
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"aecrypt: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aecrypt: interrupted; finished runs are kept, rerun to finish the rest", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
