"""`piguard serve`'s access log names route words and ids, never query strings or other path text."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_served_access_log_drops_query_strings(tmp_path: Path) -> None:
    env = {**os.environ, "PIGUARD_DATA_DIR": str(tmp_path / "data")}
    subprocess.run([sys.executable, "-m", "piguard", "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "piguard", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                # Start-up imports the app and Cedar: seconds on a loaded 2-core machine.
                deadline = time.monotonic() + 90
                while True:
                    try:
                        client.get("/api/v1/audit/checkpoint")
                        break
                    except httpx.TransportError:
                        assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                        time.sleep(0.1)
                response = client.get("/api/v1/death-reports", params={"q": "李秀英", "purpose": "TREAT"})
                assert response.status_code == 401
                # A resident ID number or a name typed where an id belongs is record data too.
                client.get("/api/v1/death-reports/310204195601156281")
                client.get("/api/v1/death-reports/%E6%9D%8E%E7%A7%80%E8%8B%B1")
                # Lowercase with digits is no route word either: a name with a phone number.
                client.get("/api/v1/death-reports/liu-jieqian-13912345678", params={"purpose": "TREAT"})
        finally:
            server.terminate()
            server.wait(timeout=10)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "GET /api/v1/death-reports?… HTTP/1.1" in text
    assert "GET /api/v1/audit/checkpoint HTTP/1.1" in text
    assert "%E6%9D%8E" not in text and "李秀英" not in text and "purpose=" not in text
    assert "310204195601156281" not in text and text.count("GET /api/v1/death-reports/… HTTP/1.1") == 2
    assert "liu-jieqian" not in text and "GET /api/v1/death-reports/…?… HTTP/1.1" in text
