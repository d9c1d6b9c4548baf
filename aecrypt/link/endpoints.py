"""The two ends of the paper's link as code. A sender encodes images with a trained run's encoder and seals
each latent into a packet (`packets`); a receiver checks and opens packets, decodes them with the same run's
decoder and scores them with its classifier. The transport between them (files, MQTT) is not their concern."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aecrypt.link import packets
from aecrypt.link.keys import KeyFile
from aecrypt.runs.trained import TrainedRun

AEAD_CIPHERS = tuple(packets.AEAD)


def paper_key_image(run: TrainedRun, key: KeyFile, key_image: Path | None = None) -> np.ndarray:
    """The paper cipher's key image: from an image file if given, else derived from the key file (HKDF)."""
    from aecrypt.paper.cipher import key_from_image

    h, w = run.latent_hw
    return key_from_image(key_image, h, w) if key_image else key.paper_key_image(h, w)


@dataclass
class Sender:
    run: TrainedRun
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
                    self.run.run_id_bytes,
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
            packet, self.key.key, self.key.key_id, self.run.run_id_bytes, self.key_image, (self.cipher,)
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
    score: float


@dataclass
class Receiver:
    run: TrainedRun
    key: KeyFile = field(repr=False)
    ciphers: tuple[str, ...] = AEAD_CIPHERS
    key_image: np.ndarray | None = field(default=None, repr=False)

    def open(self, data: bytes) -> tuple[packets.Header, np.ndarray]:
        return packets.open_packet(
            data,
            self.key.key,
            self.key.key_id,
            self.run.run_id_bytes,
            self.key_image,
            self.ciphers,
            self.run.packet_shapes,
        )

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
        images = np.stack(images)
        scores = self.run.score(images)
        return [Received(h, img, float(s)) for (h, _), img, s in zip(opened, images, scores, strict=True)]
