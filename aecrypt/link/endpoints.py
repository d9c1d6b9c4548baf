"""The two ends of the paper's link as code. A sender encodes images with a trained run's encoder and seals
each latent into a packet (`packets`); a receiver checks and opens packets, decodes them with the same run's
decoder and scores them with its classifier. A PNG payload (the image itself) needs no run at either end:
without one, the sender seals images as they are and the receiver writes them unclassified. The transport
between them (files, MQTT) is not their concern."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aecrypt import UsageError
from aecrypt.link import packets
from aecrypt.link.keys import KeyFile
from aecrypt.paper.choices import MAX_SIDE

if TYPE_CHECKING:  # a run's models need TensorFlow; the PNG path of an installed `aecrypt[link]` has none
    from aecrypt.runs.trained import TrainedRun

AEAD_CIPHERS = tuple(packets.AEAD)
#: The run id a packet sealed without a run carries (a PNG payload: no model at either end).
NO_RUN = bytes(packets.ID_BYTES)
NO_RUN_LATENT = "a latent payload needs a trained run (--run): its encoder makes the latent; --payload png needs none"


def run_id_bytes(run: TrainedRun | None) -> bytes:
    return run.run_id_bytes if run is not None else NO_RUN


def paper_key_image(run: TrainedRun, key: KeyFile, key_image: Path | None = None) -> np.ndarray:
    """The paper cipher's key image: from an image file if given, else derived from the key file (HKDF)."""
    from aecrypt.paper.cipher import key_from_image

    h, w = run.latent_hw
    return key_from_image(key_image, h, w) if key_image else key.paper_key_image(h, w)


@dataclass
class Sender:
    run: TrainedRun | None
    key: KeyFile = field(repr=False)
    cipher: str = "aes-gcm"
    quantisation: str = "float32"
    name: str = "aecrypt"
    key_image: np.ndarray | None = field(default=None, repr=False)
    sequence: int = 0

    def seal(self, images: np.ndarray, sources: list[str] | None = None) -> list[bytes]:
        """One packet per image (N × size × size in [0, 1]), numbered on from the last call: the encoder's
        latent, or with quantisation "png" the image itself (no encoder at either end). With `sources` (where
        each image came from), each image id is derived from its source and pixels (`KeyFile.image_id`), so a
        restarted sender gives the same image the same id and the receiver writes it once; else ids are random."""
        if self.quantisation != "png" and self.run is None:
            raise UsageError(NO_RUN_LATENT)
        out = []
        payloads = images if self.quantisation == "png" else self.run.encode(images)
        for i, payload in enumerate(payloads):
            image_id = None
            if sources is not None:
                pixels = hashlib.sha256(np.ascontiguousarray(images[i], np.float32).tobytes()).digest()
                image_id = self.key.image_id(sources[i].encode() + b"\0" + pixels)
            out.append(
                packets.seal(
                    payload[None],
                    self.cipher,
                    self.key.key,
                    self.key.key_id,
                    run_id_bytes(self.run),
                    packets.sender_id(self.name),
                    self.sequence,
                    self.quantisation,
                    self.key_image,
                    image_id,
                )
            )
            self.sequence += 1
        self.key.count_sealed(len(out))
        return out

    def reseal(self, packet: bytes) -> bytes:
        """The same image again under a new timestamp and nonce, with its image id and number kept: a resend that
        has waited longer than half the receiver's freshness window."""
        h, payload = packets.open_packet(
            packet, self.key.key, self.key.key_id, run_id_bytes(self.run), self.key_image, (self.cipher,)
        )
        return packets.seal(
            payload,
            h.cipher,
            self.key.key,
            h.key_id,
            h.run_id,
            h.sender_id,
            h.sequence,
            h.quantisation,
            self.key_image,
            h.image_id,
        )


@dataclass
class Received:
    header: packets.Header
    image: np.ndarray
    score: float | None  # None: a receiver without a run does not classify


@dataclass
class Receiver:
    run: TrainedRun | None
    key: KeyFile = field(repr=False)
    ciphers: tuple[str, ...] = AEAD_CIPHERS
    key_image: np.ndarray | None = field(default=None, repr=False)

    @property
    def classifies(self) -> bool:
        return self.run is not None

    @property
    def largest_packet(self) -> int:
        """The most bytes a packet this receiver could open takes: its run's float32 latent or the PNG of one of its
        images; without a run, a PNG of the largest image a run may have (`choices.MAX_SIDE`)."""
        if self.run is None:
            return packets.largest_packet(None, MAX_SIDE)
        return packets.largest_packet(self.run.packet_shapes["latent"][1:], self.run.size)

    def open(self, data: bytes) -> tuple[packets.Header, np.ndarray]:
        """Check and open one packet. Without a run, only PNG payloads, from any run (the key alone authenticates
        them); a latent is refused before it is decrypted, since nothing here could decode it."""
        if self.run is None:
            if packets.parse(data).header.quantisation != "png":
                raise packets.PacketError("packet holds a latent; this receiver has no run (--run) to decode it")
            return packets.open_packet(data, self.key.key, self.key.key_id, None, self.key_image, self.ciphers)
        return packets.open_packet(
            data,
            self.key.key,
            self.key.key_id,
            self.run.run_id_bytes,
            self.key_image,
            self.ciphers,
            self.run.packet_shapes,
        )

    def scores(self, images) -> list[float | None]:
        """The classifier's score of each image (size × size each), or None for each without a run."""
        return [float(s) for s in self.run.score(np.stack(images))] if self.run is not None else [None] * len(images)

    def image(self, header: packets.Header, payload: np.ndarray) -> np.ndarray:
        """The image an opened packet carries (1 × size × size): its latent decoded, or a png payload as it is."""
        return payload if header.quantisation == "png" else self.run.decode(payload)

    def receive(self, batch: list[bytes], names: list[str] | None = None) -> list[Received]:
        """Open every packet first (a refusal raises before anything is decoded, naming the packet), then decode
        and score."""
        opened = []
        for i, data in enumerate(batch):
            try:
                opened.append(self.open(data))
            except packets.PacketError as exc:
                where = names[i] if names else f"packet {i}"
                raise packets.PacketError(f"{where}: {exc}") from None
        if not opened:
            return []
        latent = [i for i, (h, _) in enumerate(opened) if h.quantisation != "png"]
        images = [z[0] for _, z in opened]  # png payloads are the images; latents are decoded in one batch
        if latent:
            for i, image in zip(latent, self.run.decode(np.concatenate([opened[i][1] for i in latent])), strict=True):
                images[i] = image
        scores = self.scores(images)  # (a runless receiver's PNGs may differ in size: not stacked)
        return [Received(h, img, s) for (h, _), img, s in zip(opened, images, scores, strict=True)]
