from pathlib import Path

import pytest

from vetta.testing import *  # noqa: F401,F403  (shared fixtures: vetta_home, fake_assistant, register_plugin...)


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica, built by hand so tests need no PDF writer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small folder of guidelines in several formats."""
    folder = tmp_path / "guidelines"
    (folder / "nested").mkdir(parents=True)
    (folder / "diabetes.md").write_text(
        "# Type 2 diabetes\n\nMetformin is the first-line drug treatment for most adults with type 2 diabetes. "
        "Avoid metformin when the eGFR is below 30.\n"
    )
    (folder / "hypertension.txt").write_text(
        "Hypertension\nLifestyle changes come first: less salt and more exercise. First-line drugs include "
        "thiazide diuretics and ACE inhibitors.\n"
    )
    (folder / "nested" / "asthma.html").write_text(
        "<html><head><title>Asthma inhalers</title></head><body><p>A reliever inhaler such as salbutamol "
        "opens the airways within minutes during an asthma attack.</p></body></html>"
    )
    (folder / ".hidden.txt").write_text("This hidden file must never be ingested.")
    return folder
