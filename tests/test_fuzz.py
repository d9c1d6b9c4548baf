"""The packet parser and the receiver behind it under seeded mutations of genuine packets, for every cipher
and payload, in both receiver modes: only the project's own one-line error may escape, and no stream's
parsing allocates more than a small multiple of what its packets hold."""

from __future__ import annotations

import pytest

from aecrypt.link import fuzz

CASES_PER_STREAM = 300  # 11 streams × 2 modes × 300 = 6600 cases, about 10 s here
PEAK_LIMIT = 8 << 20  # 8 MB: a 32² latent or PNG is a few kilobytes; a trusted length field would be gigabytes


@pytest.fixture(scope="module")
def reports(ends):
    return fuzz.run(ends, CASES_PER_STREAM, seed=0)


@pytest.mark.parametrize("mode", list(fuzz.MODES))
def test_mutated_packets_raise_only_the_projects_own_error(reports, mode):
    report = reports[mode]
    assert report.cases == CASES_PER_STREAM * len(fuzz.STREAMS)
    assert report.refused + report.accepted + len(report.other) == report.cases
    assert not report.other, report.other[:5]
    assert report.refused > 0.5 * report.cases  # the mutations do reach the checks


def test_aead_catches_every_mutation_the_paper_cipher_lets_some_through(reports):
    assert reports["aead"].accepted == 0  # the tag covers every byte: no changed packet opens
    assert reports["insecure"].accepted > 0  # (z + K)² has no integrity: flipped payload bits decrypt


@pytest.mark.parametrize("mode", list(fuzz.MODES))
def test_no_stream_allocates_beyond_its_bound(reports, mode):
    assert 0 < reports[mode].peak_bytes < PEAK_LIMIT
