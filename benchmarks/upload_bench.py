"""Upload throughput and memory: a large file through the real HTTP app vs sha256sum + cp + sync.

Runs the app as its own process (`auditdocs run`) on a fresh data dir, logs in through the form, and streams
a multipart upload of SIZE_MB from disk (the client never holds the file in memory). The baseline is what the
store must do at the least: hash the bytes, copy them, flush them to disk — measured in the same run on the
same file. Prints medians of RUNS runs, the ratio app/baseline and the server's peak memory above idle.

    python benchmarks/upload_bench.py [--size-mb 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).with_name("auditdocs")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_file(path: Path, size_mb: int) -> None:
    """A valid-looking PDF header followed by random bytes (random: nothing compresses or dedupes)."""
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.4\n% benchmark " + uuid.uuid4().hex.encode() + b"\n")
        for _ in range(size_mb):
            fh.write(os.urandom(1024 * 1024))


def touch_variant(path: Path) -> None:
    """Change a few bytes so every run stores a new object (no dedupe shortcut)."""
    with path.open("r+b") as fh:
        fh.seek(20)
        fh.write(uuid.uuid4().hex.encode())


def baseline(path: Path, dest_dir: Path) -> float:
    """sha256sum + cp + sync of the same file."""
    dest = dest_dir / "copy.bin"
    start = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cp", str(path), str(dest)], check=True)
    subprocess.run(["sync"], check=True)
    elapsed = time.perf_counter() - start
    dest.unlink()
    return elapsed


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


class Session:
    """A tiny cookie-keeping HTTP client over http.client."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def request(self, method: str, url: str, body: object = None, headers: dict | None = None,
                length: int | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if length is not None:
            hdrs["Content-Length"] = str(length)
        conn.request(method, url, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        for header, value in resp.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return resp.status, dict(resp.getheaders()), data

    def token(self, url: str) -> str:
        _s, _h, page = self.request("GET", url)
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"no CSRF token on {url}"
        return match.group(1).decode()


def multipart_stream(fields: dict[str, str], path: Path, boundary: str):  # type: ignore[no-untyped-def]
    """The body as a generator plus its length: the file is read from disk in 1 MiB chunks."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ) + (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
         "Content-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = len(head) + path.stat().st_size + len(tail)

    def gen():  # type: ignore[no-untyped-def]
        yield head
        with path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk
        yield tail

    return gen(), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="auditdocs-bench-"))
    data_dir = work / "data"
    env = {**os.environ, "AUDITDOCS_DATA_DIR": str(data_dir), "AUDITDOCS_MAX_UPLOAD_MB": str(args.size_mb + 10)}
    env.pop("AUDITDOCS_DATABASE_URL", None)
    port = free_port()
    src = work / "evidence.pdf"
    make_file(src, args.size_mb)
    try:
        subprocess.run([str(BIN), "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        password = "benchmark-password-123"  # noqa: S105 - throwaway account in a temp data dir
        for email, role in (("bench@example.org", "quality_officer"),):
            subprocess.run([str(BIN), "create-user", email, "--role", role, "--password-stdin"], env=env,
                           input=password + "\n", text=True, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen([str(BIN), "run", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            s = Session(port)
            status, _h, _b = s.request("POST", "/login", body=(
                f"csrf_token={s.token('/login')}&email=bench%40example.org&password={password}"),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert status == 302, status
            s.request("GET", "/")  # warm up templates and the database
            time.sleep(0.5)
            idle = rss_kb(server.pid, "VmRSS")
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the high-water mark
            app_times, base_times = [], []
            for run in range(args.runs):
                touch_variant(src)
                base_times.append(baseline(src, work))
                touch_variant(src)
                boundary = uuid.uuid4().hex
                fields = {"csrf_token": s.token("/documents/new"), "code": f"BENCH-{run:03d}",
                          "title": "Benchmark upload", "kind": "evidence", "language": "en",
                          "confidentiality": "normal", "owner": "1", "review_interval_months": "12"}
                body, length = multipart_stream(fields, src, boundary)
                subprocess.run(["sync"], check=True)
                start = time.perf_counter()
                status, _h, _b = s.request("POST", "/documents/new", body=body, length=length,
                                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
                app_times.append(time.perf_counter() - start)
                assert status == 302, (status, _b[:300])
            peak = rss_kb(server.pid, "VmHWM")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    size = args.size_mb
    app_med, base_med = statistics.median(app_times), statistics.median(base_times)
    print(f"upload of {size} MB, median of {args.runs} runs")
    print(f"  baseline sha256sum+cp+sync : {base_med:6.2f} s  {size / base_med:7.1f} MB/s")
    print(f"  auditdocs HTTP upload      : {app_med:6.2f} s  {size / app_med:7.1f} MB/s")
    print(f"  ratio app/baseline         : {app_med / base_med:6.2f}x   (goal: within 3x)")
    print(f"  server peak memory above idle: {(peak - idle) / 1024:6.1f} MB (idle {idle / 1024:.1f} MB; goal < 64 MB)")


if __name__ == "__main__":
    main()
