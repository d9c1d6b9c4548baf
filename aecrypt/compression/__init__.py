"""Is it compressed? Bytes on the wire for every way an image or its latent can travel, rate–distortion
curves of the autoencoders against the standard codecs (every method through the same metric code), the
classifier at equal rate, and each method's latency against the link's speeds. `record` is the cached step
that writes results/<profile>/compression/; the chapter draws those files."""
