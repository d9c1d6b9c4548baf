"""The link page's measured speeds: the record of `make bench-shaped` (the link through a network namespace
whose loopback `tc` limits to 250 kbit/s, 1 and 10 Mbit/s) as one table, measured beside computed."""

from __future__ import annotations

import pandas as pd

from aecrypt import paths
from aecrypt.book import page
from aecrypt.book.pages.link import stream_name
from aecrypt.files import read_json
from aecrypt.runs.results import Results
from aecrypt.runtime import cpu_line


def shaped_record(results: Results) -> dict | None:
    return read_json(paths.shaped_json(results.profile, results.root)) or None


def _speed(kbit: int) -> str:
    return f"{kbit / 1000:g} Mbit/s" if kbit >= 1000 else f"{kbit} kbit/s"


def shaped_table(record: dict) -> pd.DataFrame:
    """One row per rate and stream: seconds per image computed from the bytes on the wire (one hop) and
    measured end to end through the shaped namespace, and the images per second measured."""
    rows = []
    for rate in record["rates"]:
        for s in rate["streams"]:
            rows.append(
                {
                    "link": _speed(rate["kbit_per_s"]),
                    "stream": stream_name(s["cipher"], s["payload"]),
                    "bytes per image": s["packet_bytes"],
                    "images": f"{s['received']} / {s['images']}",
                    "s per image, computed": s["computed_s_per_image"],
                    "s per image, measured": s["measured_s_per_image"],
                    "images/s, measured": s["measured_images_per_s"],
                }
            )
    return pd.DataFrame(rows)


def shaped_section(results: Results) -> list:
    record = shaped_record(results)
    if record is None:
        return [
            page.md(
                "*The seconds above are computed from bytes. `sudo make bench-shaped` measures them: it runs the "
                "broker, the receiver and the sender in a network namespace whose loopback `tc` limits to each "
                "rate (about 3 minutes; it needs root), and this section shows the result.*"
            )
        ]
    if not record["measured"]:
        return [page.md(f"*`make bench-shaped` could not shape a network here: {record['why_not']}.*")]
    table = shaped_table(record)
    no_netem = any("no netem" in rate["shaping"] for rate in record["rates"])
    return [
        page.md(
            f"Measured on {record['when'][:10]} with `make bench-shaped` on {cpu_line(record['cpu'])}, run "
            f"{record['run']} ({record['run_label']}): each image goes sender → broker → receiver, and both hops "
            "cross the one shaped loopback, so the measured time per image is at least twice the computed one-hop "
            "time; on a real deployment the two hops are two links. Beyond that come MQTT's and TCP's own "
            "traffic (acknowledgements, headers, the 1500-byte MTU's segments) and the work at both ends (encode, "
            "seal, open, decode, classify: tens of milliseconds per image here), which is all a fast link shows. "
            + ("This kernel has no netem, so no delay or loss was added." if no_netem else "")
        ),
        page.html(table.to_html(index=False, float_format=lambda v: f"{v:.3g}")),
    ]
