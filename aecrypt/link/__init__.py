"""The paper's IoT link as working software: encode, encrypt, send, receive, decode, classify.

  packets    the one versioned binary packet, and all its AEAD framing (AES-256-GCM, ChaCha20-Poly1305)
  aead       the AEAD ciphers behind the paper cipher's interface
  pngfiles   the PNG files the link writes and sends
  keys       key files (owner-only, never overwritten)
  endpoints  the sender and the receiver of a trained run
  addresses  broker addresses and TLS settings
  brokers    the embedded amqtt broker and mosquitto, on loopback
  mqtt       the clients: send with an outbox, receive once
  certs      a throwaway CA for trying TLS on loopback
  faults     fault drills on a real broker

A docstring only, like every subpackage's __init__."""
