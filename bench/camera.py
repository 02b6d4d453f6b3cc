"""Camera and decoder figures, each beside the floor it stands on.

    python -m bench.camera            the camera figures alone (the table)
    python -m bench.camera fps W H    (probe) pipeline vs bare decoding at W×H, one core; JSON
    python -m bench.camera gui        (probe) GUI stall and code-to-workflow latency; JSON

- Decoders: every photo in tests/data/barcodes through each backend, as the station sets it
  up; the share of each symbology's photos read right and the median decode time.
- Pipeline frames per second: footage made from those photos (codes sliding in, blurred,
  held, sliding out) played as a 30-frame-per-second camera at W×H through the real capture
  thread and decode worker, the process held to ONE core; frames per second of that core's
  time, a frame costing its capture, decoding, normalising and tracking (see probe_fps).
  Beside it, the floor: bare zxing-cpp decoding of the very same frames, from memory, on the
  same core. CPU time, not the wall clock, because this machine is shared: the clock's rate
  is in the note.
- GUI stall: a QTimer every 5 ms in a real event loop while the camera decodes 720p at
  30 frames a second and the preview paints; the longest gap past the interval, once the
  camera is open (the one-time pause while it starts is its own figure). Its floor: the same
  loop with no camera.
- Code to workflow: from the capture of the first frame that holds the whole code (still
  moving, so blurred) to the GUI thread's slot receiving the scan.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures import Figure, percentile

ROOT = Path(__file__).resolve().parents[1]
# The codes in the footage: EAN-13, QR, GS1 DataMatrix, UPC-A, Code 128, DataBar Expanded.
FOOTAGE = ("4000539017100", "MEBKM", "0108903819987659", "027011006951", "CNK8181G2C", "(01)900123")
CAMERA_FPS = 30.0  # a webcam's rate
START_S = 2.0  # the empty bench the GUI probe's footage starts with, while the camera opens
PIPELINE_S = 12.0


def decoder_figures() -> list[Figure]:
    from app.scanning.decoders import make_decoder
    from bench.photos import decode_rates, grey, load_photos

    photos = load_photos()
    out: list[Figure] = []
    rates = {}
    for backend in ("zxing", "zbar"):
        decoder = make_decoder(backend)
        decoder.decode(grey(photos[0]))  # libraries loaded, warm
        rates[backend] = decode_rates(lambda f, d=decoder: [x.text for x in d.decode(f)], photos)
    for symbology in rates["zxing"]:
        for backend in ("zxing", "zbar"):
            r = rates[backend][symbology]
            out.append(
                Figure(
                    f"photos read, {symbology}: {backend}",
                    100 * r.rate,
                    "%",
                    note=f"{r.read}/{r.photos} read, {r.wrong} wrong; "
                    f"median {statistics.median(r.times_ms):.1f} ms",
                )
            )
    for backend in ("zxing", "zbar"):
        all_rates = rates[backend].values()
        read = sum(r.read for r in all_rates)
        total = sum(r.photos for r in all_rates)
        times = [t for r in all_rates for t in r.times_ms]
        wrong = sum(r.wrong for r in all_rates)
        out.append(
            Figure(
                f"photos read, all: {backend}",
                100 * read / total,
                "%",
                note=f"{read}/{total} read, {wrong} wrong",
            )
        )
        out.append(
            Figure(f"median decode time per photo: {backend}", statistics.median(times), "ms")
        )
    return out


# --- probes (each in a process of its own) ---------------------------------------------------


def _footage(
    folder: Path, size: tuple[int, int], fps: float, lead_s: float = 0.0, hold_s: float = 0.8
) -> tuple[Path, list[Any]]:
    from bench.camera_video import make_video
    from bench.photos import grey, load_photos

    photos = load_photos()
    chosen = [next(p for p in photos if p.expected.startswith(start)) for start in FOOTAGE]
    path = folder / f"camera-{size[0]}x{size[1]}.mp4"
    shots = make_video(
        path, [grey(p) for p in chosen], size=size, fps=fps, lead_s=lead_s, hold_s=hold_s
    )
    return path, shots


class _Timed:
    """A frame source that notes when each frame was delivered (frame number -> time)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.at: list[float] = []

    @property
    def live(self) -> bool:
        return bool(self.inner.live)

    def describe(self) -> str:
        return str(self.inner.describe())

    def open(self) -> float:
        return float(self.inner.open())

    def read(self) -> Any:
        frame = self.inner.read()
        if frame is not None:
            self.at.append(time.monotonic())
        return frame

    def close(self) -> None:
        self.inner.close()


def probe_fps(width: int, height: int) -> dict[str, float]:
    """Pipeline vs bare decoding at width×height, the process held to one core.

    Counted in CPU time, not by the clock: this machine is shared, and other programs' time
    is not the pipeline's. The pipeline's cost of a frame is the decode worker's CPU time per
    frame it decoded plus the capture thread's CPU time per frame it captured (what one frame
    costs from camera to scan); its frames per second on one core are one over that. Frames
    the camera delivered while the worker was busy cost capture time too: that rate, and the
    clock's, are reported beside it.
    """
    import cv2

    from app.scanning.camera import CameraScanner, OpenCVSource
    from app.scanning.decoders import ZXingDecoder, as_grey, make_decoder

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    with tempfile.TemporaryDirectory() as d:
        path, _shots = _footage(Path(d), (width, height), CAMERA_FPS)
        frames = []
        cap = cv2.VideoCapture(str(path))
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()

        scanner = CameraScanner(OpenCVSource(str(path)), make_decoder("zxing"), lambda _s: None)
        scanner.start()
        time.sleep(1.0)  # opened, libraries loaded
        clocks = [time.pthread_getcpuclockid(t.ident or 0) for t in scanner.threads]
        stats = scanner.stats

        def sample() -> tuple[int, int, float, float, float]:
            capture_cpu, worker_cpu = (time.clock_gettime(c) for c in clocks)
            return stats.captured, stats.decoded, capture_cpu, worker_cpu, time.perf_counter()

        first = sample()
        time.sleep(len(frames) / CAMERA_FPS - 2.0)  # to just before the footage ends
        last = sample()
        scanner.stop()
        captured, decoded, capture_cpu, worker_cpu, wall = (
            b - a for a, b in zip(first, last, strict=True)
        )
        per_frame = worker_cpu / decoded + capture_cpu / captured

        bare_decoder = ZXingDecoder()
        greys = [as_grey(f) for f in frames]
        bare_decoder.read(greys[0])
        n, bare_cpu, bare_wall = 0, time.thread_time(), time.perf_counter()
        while n < len(greys) or time.perf_counter() - bare_wall < 3:
            bare_decoder.read(greys[n % len(greys)])
            n += 1
        bare_cpu, bare_wall = time.thread_time() - bare_cpu, time.perf_counter() - bare_wall
    return {
        "pipeline_fps": 1 / per_frame,
        "pipeline_with_drops_fps": decoded / (worker_cpu + capture_cpu),
        "pipeline_wall_fps": decoded / wall,
        "capture_ms": 1000 * capture_cpu / captured,
        "bare_fps": n / bare_cpu,
        "bare_wall_fps": n / bare_wall,
        "captured": captured,
        "decoded": decoded,
        "dropped": captured - decoded,
    }


def probe_gui() -> dict[str, Any]:
    """GUI stall while the camera decodes 720p at 30 frames a second, and code-to-workflow
    latency, in a real Qt event loop with the preview on screen."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.scanning.camera import CameraScanner, OpenCVSource
    from app.scanning.decoders import make_decoder
    from ui.camera_preview import CameraFeed, CameraPreview

    app = QApplication(sys.argv[:1])

    def longest_gap(seconds: float, until: Any = None) -> list[float]:
        """Gaps past the 5 ms interval for ``seconds``, or until ``until()`` is true."""
        gaps: list[float] = []
        clock = QElapsedTimer()
        timer = QTimer()
        timer.setInterval(5)

        def tick() -> None:
            gaps.append(clock.nsecsElapsed() / 1e6 - 5)
            clock.restart()
            if until is not None and until():
                app.quit()

        timer.timeout.connect(tick)
        clock.start()
        timer.start()
        QTimer.singleShot(round(seconds * 1000), app.quit)
        app.exec()
        timer.stop()
        return gaps[1:]

    idle = longest_gap(3.0)
    with tempfile.TemporaryDirectory() as d:
        # each code held up for 1.5 s, as a packer holds an item until the bench answers
        path, shots = _footage(Path(d), (1280, 720), 30.0, lead_s=START_S, hold_s=1.5)
        source = _Timed(OpenCVSource(str(path)))
        scanner = CameraScanner(
            source, make_decoder("zxing"), lambda _s: None, gone_frames=3, repeat_after_s=0
        )
        feed = CameraFeed(scanner)
        preview = CameraPreview(feed)
        preview.resize(400, 265)
        preview.show()
        received: list[tuple[int, float]] = []
        feed.scanned.connect(
            lambda _code: received.append((feed.last_scan.frame, time.monotonic()))  # type: ignore[union-attr]
        )
        feed.start()
        starting = longest_gap(START_S)  # opening the file, the decoder and GS1 tables loading
        # to the footage's end, however far the camera falls behind the clock on a busy machine
        busy = longest_gap(120.0, until=lambda: feed.state == "ended")
        feed.stop()
        latencies, pipeline = [], []
        for shot in shots:
            # capture numbers count from 1, footage frames from 0
            got = [(seq, t) for seq, t in received if shot.in_view <= seq - 1 < shot.leaves]
            if not got or len(source.at) <= shot.in_view:
                continue
            seq, at = got[0]
            latencies.append((at - source.at[shot.in_view]) * 1000)
            pipeline.append((at - source.at[seq - 1]) * 1000)
    return {
        "idle_stall_ms": max(idle),
        "start_stall_ms": max(starting),
        "busy_stall_ms": max(busy),
        "busy_stall_p99_ms": percentile(busy, 99),
        "paint_ms_median": statistics.median(preview.paint_ms) if preview.paint_ms else 0.0,
        "codes": len(shots),
        "scans": len(received),
        "latency_ms": latencies,
        "read_to_workflow_ms": pipeline,
        "decoded": scanner.stats.decoded,
        "captured": scanner.stats.captured,
    }


def _probe(*args: str) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.camera", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"bench.camera {' '.join(args)} failed: {proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def pipeline_figures() -> list[Figure]:
    out = []
    for width, height, target in ((1280, 720, 30.0), (1920, 1080, None)):
        r = _probe("fps", str(width), str(height))
        name = f"{width}×{height}"
        out += [
            Figure(
                f"camera pipeline {name}, one core",
                r["pipeline_fps"],
                "frames/s",
                target,
                higher_is_better=True,
                note=f"per CPU-second, capture {r['capture_ms']:.1f} ms a frame; "
                f"{CAMERA_FPS:g} fps camera: {r['pipeline_wall_fps']:.1f}/s by the clock, "
                f"{r['dropped']} of {r['captured']} dropped, "
                f"{r['pipeline_with_drops_fps']:.1f}/CPU-s with their capture",
            ),
            Figure(
                f"floor: bare zxing-cpp decoding {name}, one core",
                r["bare_fps"],
                "frames/s",
                note=f"per CPU-second; {r['bare_wall_fps']:.1f}/s by the clock",
            ),
            Figure(
                f"camera pipeline / bare decoding {name}",
                r["pipeline_fps"] / r["bare_fps"],
                "×",
                0.8,
                higher_is_better=True,
            ),
        ]
    g = _probe("gui")
    latency = g["latency_ms"]
    out += [
        Figure(
            "GUI stall while decoding 720p (longest)",
            g["busy_stall_ms"],
            "ms",
            50,
            note=f"5 ms QTimer, preview painting (median paint {g['paint_ms_median']:.1f} ms)",
        ),
        Figure("floor: GUI stall with no camera (longest)", g["idle_stall_ms"], "ms"),
        Figure(
            "GUI stall while the camera starts (longest, once)",
            g["start_stall_ms"],
            "ms",
            note="decoder and GS1 tables loading on the camera's threads",
        ),
        Figure(
            "code in view → workflow has the scan (median)",
            statistics.median(latency) if latency else float("nan"),
            "ms",
            note=f"{len(latency)} codes sliding in at 30 fps, {g['scans']} scans",
        ),
        Figure(
            "code in view → workflow has the scan (slowest)",
            max(latency) if latency else float("nan"),
            "ms",
        ),
        Figure(
            "  of which: frame read → workflow (median)",
            statistics.median(g["read_to_workflow_ms"]) if latency else float("nan"),
            "ms",
            note="capture of the frame the code was read in → the GUI slot",
        ),
    ]
    return out


def run() -> list[Figure]:
    return decoder_figures() + pipeline_figures()


def main(argv: list[str]) -> int:
    if argv[:1] == ["fps"]:
        print(json.dumps(probe_fps(int(argv[1]), int(argv[2]))))
        return 0
    if argv[:1] == ["gui"]:
        print(json.dumps(probe_gui()))
        return 0
    from bench.__main__ import table

    print(table(run()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
