"""`aecrypt keygen | encrypt | decrypt`: encrypted latents as files. A trained run's encoder makes each
image's latent and seals it into a packet (`link.packets`); the receiver's side checks, opens, decodes and
scores it. With `--payload png` the image itself travels and no run is needed: without `--run` the receiver
writes the images and skips classification. What `send` and `receive` share with these (the run, the key, the
images) is here too."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from aecrypt import UsageError
from aecrypt.cli.common import add_profile, results_root
from aecrypt.link.packets import LATENT_QUANTISATIONS
from aecrypt.paper.choices import MAX_SIDE, MIN_SIDE

SUMMARY = "packets: keygen, encrypt, decrypt"
#: The side PNG payloads are fitted to when no run sets it: the paper's 200 × 200.
PNG_SIZE = 200


def _png_side(text: str) -> int:
    """A side a PNG payload sent without a run may be fitted to: one a run's images may have (a run-less receiver
    takes no larger)."""
    side = int(text) if text.strip().isdigit() else 0
    if not MIN_SIDE <= side <= MAX_SIDE:
        raise argparse.ArgumentTypeError(f"{text!r} is not a side in pixels from {MIN_SIDE} to {MAX_SIDE}")
    return side


PAPER_WARNING = (
    "the paper's cipher is not secure: it cannot detect tampering or a wrong key, and one known image gives its "
    "key away"
)


def cmd_keygen(args) -> int:
    from aecrypt.link.keys import generate

    key = generate(Path(args.output))
    print(f"wrote {args.output} (owner-only, key id {key.key_id.hex()}); keep it secret, copy it to the receiver")
    return 0


def endpoint(args, insecure_ok: bool):
    """The run and key an encrypt/decrypt/send/receive uses, and the paper cipher's key image where allowed."""
    from aecrypt.link import endpoints, keys

    if args.cipher_paper and not args.insecure:
        raise UsageError(f"{PAPER_WARNING}; add --insecure to use it for comparison")
    if args.insecure and insecure_ok and not args.run:
        raise UsageError("the paper's cipher encrypts a latent: it needs a trained run (--run)")
    key = keys.load(Path(args.key))
    run = None
    if args.run:
        from aecrypt.runs.trained import TrainedRun, find_run

        run = TrainedRun.load(find_run(args.run, args.profile, results_root(args)))
    key_image = None
    if args.insecure and insecure_ok:
        logging.getLogger("aecrypt").warning(PAPER_WARNING)
        key_image = endpoints.paper_key_image(run, key, Path(args.key_image) if args.key_image else None)
    return run, key, key_image


def sealed(args):
    """encrypt / send: where each image came from, one packet per image (its image id derived from its source
    and pixels, so sealing the same image again gives the same id), and the sender that sealed them."""
    from aecrypt.link.endpoints import NO_RUN_LATENT, Sender

    args.cipher_paper = args.cipher == "paper"
    quantisation = _payload(args)
    if quantisation != "png" and not args.run:
        raise UsageError(NO_RUN_LATENT)
    if args.run and args.size is not None:
        raise UsageError("--size is for PNG payloads sent without --run; a run sends images at its own size")
    run, key, key_image = endpoint(args, insecure_ok=args.cipher_paper)
    sources, images = _inputs(args, run.size if run else args.size or PNG_SIZE)
    sender = Sender(run, key, args.cipher, quantisation, args.sender, key_image)
    return sources, sender.seal(images, [str(s) for s in sources]), sender


def receiver(args):
    """decrypt / receive: the AEAD ciphers; with --insecure the paper's cipher, and only it (an end that
    accepts the weak cipher beside the strong one lets an attacker pick the weak one)."""
    from aecrypt.link.endpoints import AEAD_CIPHERS, Receiver

    args.cipher_paper = False
    run, key, key_image = endpoint(args, insecure_ok=True)
    if run is None:
        logging.getLogger("aecrypt").info("no --run: PNG payloads are written unclassified; latents are refused")
    return Receiver(run, key, ("paper",) if args.insecure else AEAD_CIPHERS, key_image)


def _payload(args) -> str:
    """--payload latent (quantised as --quantise) or png (the image itself; no --quantise then)."""
    if args.payload == "png":
        if args.quantise is not None:
            raise UsageError("--quantise applies to latents; --payload png sends the image itself as a PNG")
        if args.cipher == "paper":
            raise UsageError("--payload png needs an AEAD cipher (aes-gcm or chacha20), not the paper's")
        return "png"
    return args.quantise or "float32"


def _inputs(args, size: int):
    """The images to send: files and folders given, or the images of a data spec (--data, capped by
    --n-images); one of the two."""
    if args.data and args.images:
        raise UsageError("give image files/folders or --data SPEC, not both")
    if not args.data:
        from aecrypt.data.files import read_images

        return read_images(args.images, size)
    from aecrypt.data.dataset import load_dataset

    ds = load_dataset(args.data, size, args.n_images)
    return [f"{ds.spec} #{i}" for i in range(len(ds))], ds.images


def cmd_encrypt(args) -> int:
    from aecrypt.link.packets import parse

    sources, packets, _ = sealed(args)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for source, packet in zip(sources, packets, strict=True):
        target = out / f"{parse(packet).header.image_hex}.aecp"  # an opaque name: never the input's
        target.write_bytes(packet)
        print(f"{source} -> {target} ({len(packet)} bytes)")
    return 0


def cmd_decrypt(args) -> int:
    import csv

    from aecrypt.link import pngfiles

    rx = receiver(args)
    batch = []
    for name in args.packets:
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"{path}: no such packet file")
        batch.append(path.read_bytes())
    results = rx.receive(batch, names=args.packets)  # every packet is checked before anything is written
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in results:
        name = f"{r.header.image_hex}.png"
        pngfiles.save_png(r.image, out / name)
        rows.append(
            {"image_id": r.header.image_hex, "sender_id": r.header.sender_id.hex(), "sequence": r.header.sequence}
            | {"cipher": r.header.cipher, "quantisation": r.header.quantisation}
            | {"score": "" if r.score is None else round(r.score, 6), "image": name}  # blank: not classified
        )
    with (out / "scores.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    classified = "" if rx.classifies else " (no --run: not classified, scores left blank)"
    print(f"{len(rows)} image(s) and scores.csv in {out}{classified}")
    return 0


def add_endpoint(q, output: bool = True) -> None:
    """The options of every command that uses a trained run and a key."""
    add_profile(q, data=False)
    q.add_argument(
        "--run",
        help="a run id (or a unique prefix of 4+ characters; aecrypt runs lists them): needed for latents and the "
        "paper's cipher; PNG payloads need none (a receiver without one does not classify)",
    )
    q.add_argument("--key", required=True, help="the key file (aecrypt keygen)")
    q.add_argument("--insecure", action="store_true", help="allow the paper's cipher (no integrity, weak key)")
    q.add_argument("--key-image", help="paper cipher only: the key image file (default: derived from --key)")
    if output:
        q.add_argument("-o", "--output", required=True, help="folder to write into")


def add_sealing(q) -> None:
    """The options of every command that seals images (encrypt, send)."""
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
    q.add_argument("--quantise", choices=LATENT_QUANTISATIONS, help="the latent's numbers (default float32)")
    q.add_argument("--sender", default="aecrypt", help="this device's name (only its hash travels)")
    q.add_argument(
        "--size",
        type=_png_side,
        help=f"PNG payloads without --run: the side, in pixels, the images are fitted to (default {PNG_SIZE})",
    )


def register(sub) -> None:
    p = sub.add_parser("keygen", help="a new AEAD key file (owner-only; never overwrites)")
    p.add_argument("-o", "--output", required=True, help="the key file to write")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser(
        "encrypt",
        help="seal images into packets: each one's latent from a run's encoder, or the image itself (--payload png, "
        "no run needed)",
    )
    add_endpoint(p)
    add_sealing(p)
    p.set_defaults(func=cmd_encrypt)

    p = sub.add_parser(
        "decrypt",
        help="check, decrypt, decode and score packets (PNG + scores.csv; without --run: PNG payloads, unscored)",
    )
    add_endpoint(p)
    p.add_argument("packets", nargs="+", help="packet files (.aecp)")
    p.set_defaults(func=cmd_decrypt)
